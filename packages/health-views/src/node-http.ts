// The node:http adapter, in terminus' manner: it wraps a request listener and answers the health
// routes before the wrapped one (Fastify through serverFactory, Express, Koa, a bare handler) sees
// the request. The only file besides fastify.ts that knows an HTTP API.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { mergeHeaders } from './headers.js';
import type { AdapterHooks, AnsweredRequest, Health, HealthAnswer, HealthStream } from './types.js';

export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** Wraps a request listener: health routes are answered here; every other request goes on to it. */
export function withHealth(
  health: Health,
  listener: RequestListener,
  hooks: AdapterHooks<IncomingMessage> = {},
): RequestListener {
  const { headers: extraHeaders, onAnswered } = hooks;
  return function healthListener(this: unknown, request, response) {
    const startedAt = onAnswered ? performance.now() : 0;
    const method = request.method ?? 'GET';
    let answer: HealthAnswer | HealthStream | undefined;
    try {
      answer = health.answer({ method, url: request.url ?? '/', headers: request.headers });
    } catch {
      // Nothing in answer() is meant to throw; if it ever does, the prober gets a plain 503, not a
      // process brought down by an exception thrown from a request listener.
      answer = UNAVAILABLE;
    }
    if (answer === undefined) {
      listener.call(this, request, response);
      return;
    }
    // The hooks are called in place, not through a closure: this runs for every probe.
    let extra: Readonly<Record<string, string>> | undefined;
    try {
      extra = extraHeaders?.(request);
    } catch {
      // a host hook's failure must not break the health answer
    }
    if (answer.kind === 'answer') writeAnswer(response, method, answer, extra);
    else writeStream(request, response, answer, extra);
    if (onAnswered) {
      const answered: AnsweredRequest = {
        method,
        route: answer.route,
        statusCode: answer.statusCode,
        durationMs: performance.now() - startedAt,
      };
      try {
        onAnswered(answered, request, extra);
      } catch {
        // as above
      }
    }
  };
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
  extra: Readonly<Record<string, string>> | undefined,
): void {
  // The package's own headers win: a host hook must not change what the body is.
  response.writeHead(answer.statusCode, extra ? mergeHeaders(extra, answer.headers) : answer.headers);
  response.end(method === 'HEAD' ? undefined : answer.body);
}

function writeStream(
  request: IncomingMessage,
  response: ServerResponse,
  stream: HealthStream,
  extra: Readonly<Record<string, string>> | undefined,
): void {
  response.writeHead(stream.statusCode, extra ? mergeHeaders(extra, stream.headers) : stream.headers);
  const unsubscribe = stream.attach({ write: (chunk) => response.write(chunk), end: () => response.end() });
  response.once('close', unsubscribe);
  request.socket.once('close', unsubscribe);
}

const UNAVAILABLE_BODY = Buffer.from(
  JSON.stringify({ statusCode: 503, error: 'Service Unavailable', message: 'the health answer could not be made' }),
);
const UNAVAILABLE: HealthAnswer = {
  kind: 'answer',
  route: '(health)',
  statusCode: 503,
  headers: {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(UNAVAILABLE_BODY.length),
  },
  body: UNAVAILABLE_BODY,
};
