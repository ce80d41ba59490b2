// The node:http adapter, in terminus' manner: it wraps a request listener and answers the health
// routes before the wrapped one (Fastify through serverFactory, Express, Koa, a bare handler) sees
// the request. Express's middleware (express.ts) answers through it too.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { answerOf, hostHeaders, reportAnswered } from './adapter.js';
import { mergeHeaders, type HeaderValues } from './headers.js';
import { writableSink } from './watch.js';
import type { AdapterHooks, Health, HealthAnswer, HealthStream, RequestListener } from './types.js';

/** Wraps a request listener: health routes are answered here; every other request goes on to it. */
export function withHealth(
  health: Health,
  listener: RequestListener,
  hooks: AdapterHooks<IncomingMessage> = {},
): RequestListener {
  return function healthListener(this: unknown, request, response) {
    if (!serveHealth(health, request, response, hooks)) listener.call(this, request, response);
  };
}

/**
 * Answers a health request on node:http's own objects; false, with nothing written, for any other
 * request. The Express middleware is this too: Express's req and res are these objects.
 */
export function serveHealth<Request extends IncomingMessage>(
  health: Health,
  request: Request,
  response: ServerResponse,
  hooks: AdapterHooks<Request>,
): boolean {
  const startedAt = hooks.onAnswered ? performance.now() : 0;
  const method = request.method ?? 'GET';
  const answer = answerOf(health, { method, url: request.url ?? '/', headers: request.headers });
  if (answer === undefined) return false;
  const extra = hostHeaders(hooks, request);
  if (answer.kind === 'answer') writeAnswer(response, method, answer, extra);
  else writeStream(request, response, answer, extra);
  reportAnswered(hooks, request, method, answer, startedAt, extra);
  return true;
}

/**
 * Puts the health routes in front of every 'request' listener a server already has (e.g. one
 * given to http.createServer), like terminus does. Listeners added later are not wrapped.
 */
export function attachHealth(server: Server, health: Health, hooks: AdapterHooks<IncomingMessage> = {}): void {
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on(
    'request',
    withHealth(
      health,
      (request, response) => {
        for (const listener of listeners) listener.call(server, request, response);
      },
      hooks,
    ),
  );
}

function writeAnswer(
  response: ServerResponse,
  method: string,
  answer: HealthAnswer,
  extra: HeaderValues | undefined,
): void {
  // The package's own headers win: a host hook must not change what the body is.
  response.writeHead(answer.statusCode, extra ? mergeHeaders(extra, answer.headers) : answer.headers);
  response.end(method === 'HEAD' ? undefined : answer.body);
}

/** Writes the head of a watch stream and subscribes the response (the Koa adapter's stream too). */
export function writeStream(
  request: IncomingMessage,
  response: ServerResponse,
  stream: HealthStream,
  extra: HeaderValues | undefined,
): void {
  response.writeHead(stream.statusCode, extra ? mergeHeaders(extra, stream.headers) : stream.headers);
  const unsubscribe = stream.attach(writableSink(response));
  response.once('close', unsubscribe);
  request.socket.once('close', unsubscribe);
}
