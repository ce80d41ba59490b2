// RFC 9112 §3.2.2: a server must accept a request target in absolute form (`GET http://host/x`,
// what a client sends to a proxy) and answer it as the origin form (`GET /x`) it stands for.
// Routes, logs and error messages then see one form only.

/** An http or https scheme and the authority after it, in any case. */
const SCHEME_AND_AUTHORITY = /^https?:\/\/[^/?#]*/i;

/** The target's path and query; a target in origin form (or any other) is returned as it is. */
export function originForm(target: string): string {
  // The usual case costs one character check.
  if (target.charCodeAt(0) === 0x2f /* '/' */) return target;
  const authority = SCHEME_AND_AUTHORITY.exec(target);
  if (authority === null) return target;
  // `http://host` and `http://host?q` name the root: an empty path is "/" (RFC 9110 §4.2.3).
  const pathAndQuery = target.slice(authority[0].length);
  return pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`;
}
