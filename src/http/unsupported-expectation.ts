// Answers a request whose Expect header is not 100-continue. Node answers it itself with a bare
// 417 unless someone listens for 'checkExpectation'; here it gets what every other error gets: the
// JSON error body, nosniff and the request id.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody } from '../shared/http-error.js';
import { REQUEST_ID_HEADER, requestIdFrom } from '../observability/request-id.js';

/** A 'checkExpectation' listener for a node:http server. */
export function answerUnsupportedExpectation(request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify(errorBody(417, 'the Expect header is not supported here; only 100-continue is'));
  response.writeHead(417, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    [REQUEST_ID_HEADER]: requestIdFrom(request.headers[REQUEST_ID_HEADER]),
  });
  response.end(body);
}
