// Which format an Accept header prefers. Hand-written (a dozen lines) rather than the `negotiator`
// package: we choose between two media types only, and the package would be the library's only
// runtime dependency. It honours q-values: `application/health+json;q=0` means "never".

export type Format = 'json' | 'health+json';

const HEALTH_JSON = 'application/health+json';

/**
 * RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ). Only this: a
 * bare `Number()` reads `0x10` as 16 and `1e-1` as 0.1, values no client may send.
 */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

export function preferredFormat(accept: string | string[] | undefined): Format {
  if (accept === undefined) return 'json';
  const header = Array.isArray(accept) ? accept.join(',') : accept;
  if (!header.toLowerCase().includes(HEALTH_JSON)) return 'json';
  let healthQ = 0;
  let jsonQ = 0;
  for (const range of header.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = weightOf(params);
    // A range with a malformed weight is ignored whole: guessing what it meant could invert a refusal.
    if (q === undefined) continue;
    if (type === HEALTH_JSON) healthQ = Math.max(healthQ, q);
    else if (type === 'application/json' || type === 'application/*' || type === '*/*') jsonQ = Math.max(jsonQ, q);
  }
  // Named explicitly and at least as welcome as plain JSON: the more specific type wins a tie.
  return healthQ > 0 && healthQ >= jsonQ ? 'health+json' : 'json';
}

/** The range's weight: 1 without a q parameter, undefined when its value is not a qvalue. */
function weightOf(params: readonly string[]): number | undefined {
  const qParam = params.find((param) => param.startsWith('q='));
  if (qParam === undefined) return 1;
  const value = qParam.slice(2);
  return QVALUE.test(value) ? Number(value) : undefined;
}
