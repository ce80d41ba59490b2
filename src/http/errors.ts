// The one place that decides what a client sees when something goes wrong.
// 4xx carry a clear message; 5xx never leak internals (no stack, no path, no library message).

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, HttpError, type ErrorBody } from '../shared/http-error.js';
import { answerHeaders } from './answer-headers.js';
import { truncate } from '../shared/one-line.js';

/** Maps any error to the answer a client may see. */
export function toClientError(error: unknown): ErrorBody {
  if (error instanceof HttpError) return errorBody(error.statusCode, error.message);
  const statusCode = (error as Partial<FastifyError> | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // Fastify's own client errors (bad JSON, unsupported media type, body too large): their messages are safe.
    return errorBody(statusCode, (error as Error).message);
  }
  return errorBody(500, 'internal error');
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const body = toClientError(error);
    if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    if (body.statusCode === 503) reply.header('retry-after', '1');
    return reply.code(body.statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(errorBody(404, `no route for ${request.method} ${truncate(request.url, 200)}`));
  });
}

/**
 * Answers what Node's HTTP parser rejects before Fastify sees a request (a garbage request line, a
 * bad header, headers too large or too slow): the same JSON body and headers as any other error,
 * then the connection closes. The raw bytes are not logged: they may hold a client's secrets.
 */
export function answerClientError(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [statusCode, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'the request did not arrive in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'the request headers are too large']
        : [400, 'the request is not valid HTTP/1.1'];
  this.log.debug({ code: error.code, reason: error.message }, `client error answered ${statusCode}`);
  if (socket.writable) {
    const answer = errorAnswer(statusCode, message, answerHeaders(undefined, true));
    const head = Object.entries(answer.headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}\r\n${head.join('')}\r\n${answer.body}`);
  }
  socket.destroy(error);
}

/** An error answer written outside Fastify (to a node:http response or a raw socket): its body and head. */
export function errorAnswer(
  statusCode: number,
  message: string,
  headers: Record<string, string>,
): { readonly headers: Record<string, string>; readonly body: string } {
  const body = JSON.stringify(errorBody(statusCode, message));
  return {
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
    body,
  };
}
