// Which format an Accept header prefers. Hand-written (a dozen lines) rather than the `negotiator`
// package: we choose between two media types only, and the package would be the library's only
// runtime dependency. It honours q-values: `application/health+json;q=0` means "never".

export type Format = 'json' | 'health+json';

const HEALTH_JSON = 'application/health+json';

export function preferredFormat(accept: string | string[] | undefined): Format {
  if (accept === undefined) return 'json';
  const header = Array.isArray(accept) ? accept.join(',') : accept;
  if (!header.toLowerCase().includes(HEALTH_JSON)) return 'json';
  let healthQ = 0;
  let jsonQ = 0;
  for (const range of header.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const qParam = params.find((param) => param.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) continue;
    if (type === HEALTH_JSON) healthQ = Math.max(healthQ, q);
    else if (type === 'application/json' || type === 'application/*' || type === '*/*') jsonQ = Math.max(jsonQ, q);
  }
  // Named explicitly and at least as welcome as plain JSON: the more specific type wins a tie.
  return healthQ > 0 && healthQ >= jsonQ ? 'health+json' : 'json';
}
