// Text that goes on one line (a log line, a stderr line) as it is, whatever a setting or an error held.

/** Characters that would end or garble a line of text: C0 and C1 controls, DEL, line and paragraph separators. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** text with every character that could split or garble its line escaped (\n, \u0085, ...). */
export function oneLine(text: string): string {
  return text.replace(
    LINE_BREAKING,
    (char) => SHORT_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** text cut to max characters, with "..." to say it was: how a request's URL is quoted in a log line or an error. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}
