// Answers a request whose Expect header is not 100-continue. Node answers it itself with a bare
// 417 unless someone listens for 'checkExpectation'; here it gets what every other error gets: the
// JSON error body and the headers every answer carries.

import type { ServerResponse } from 'node:http';
import { errorAnswer } from './errors.js';

/** The answer of a node:http server's 'checkExpectation' listener; headers: answerHeaders' for the request. */
export function answerUnsupportedExpectation(response: ServerResponse, headers: Record<string, string>): void {
  const answer = errorAnswer(417, 'the Expect header is not supported here; only 100-continue is', headers);
  response.writeHead(417, answer.headers);
  response.end(answer.body);
}
