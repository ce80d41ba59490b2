// The request id every log line of a request carries: the client's X-Request-Id when it is sane,
// so one id follows a call across services; otherwise a fresh UUID.

import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';

/** 1 to 128 characters that are safe in a log line and a header: letters, digits and . _ : - */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The id for a request with this X-Request-Id header value. Anything else than one sane value
 * (absent, empty, too long, odd characters, or sent twice) is replaced, never cleaned up: a
 * half-trusted id is worse than a new one.
 */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}
