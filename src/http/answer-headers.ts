// The headers every answer of the service port carries, whoever writes it: a Fastify route or
// hook, Fastify's early errors, the health interceptor, an unsupported Expect, Node's parser
// errors. Set here only, so no answer misses one.

import { REQUEST_ID_HEADER } from '../observability/request-id.js';

/**
 * nosniff always; the request id when there is a request to name (Node's parser errors come
 * before there is one); Connection: close when the connection ends after this answer: while the
 * service drains, so keep-alive clients reconnect elsewhere, or when an error closes it.
 */
export function answerHeaders(requestId: string | undefined, close: boolean): Record<string, string> {
  // Key by key into one literal: the adapter and Node walk it once more to write the head.
  const headers: Record<string, string> = { 'x-content-type-options': 'nosniff' };
  if (requestId !== undefined) headers[REQUEST_ID_HEADER] = requestId;
  if (close) headers.connection = 'close';
  return headers;
}
