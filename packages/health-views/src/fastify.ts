// The Fastify adapter: the same routes and answers as Fastify routes, so the app's own hooks
// (headers, request ids, metrics) apply as to any route. Fastify is only a type here: importing
// this file loads nothing of Fastify, and Fastify is an optional peer dependency.

import type { FastifyPluginCallback, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { mergeHeaders } from './headers.js';
import type { AdapterHooks, Health } from './types.js';

export interface HealthPluginOptions {
  readonly health: Health;
  readonly hooks?: AdapterHooks<FastifyRequest>;
}

/** Every method is routed here so that the package, not Fastify's 404, answers 405 with Allow. */
const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Registers every route of `health` on the instance it is registered on. Left encapsulated (no
 * skip-override): routes see the hooks of the contexts above them, and this plugin adds no hook,
 * decorator or parser that the rest of the app would need to see.
 */
export const healthPlugin: FastifyPluginCallback<HealthPluginOptions> = (app, { health, hooks = {} }, done) => {
  const handler = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const startedAt = hooks.onAnswered ? performance.now() : 0;
    const answer = health.answer({ method: request.method, url: request.url, headers: request.headers });
    if (answer === undefined) {
      reply.callNotFound();
      return reply;
    }
    const extra = hooks.headers ? safely(() => hooks.headers!(request)) : undefined;
    if (answer.kind === 'stream') {
      const raw = reply.raw;
      reply.hijack();
      // A hijacked reply writes nothing itself: carry over what the app's hooks set on it.
      raw.writeHead(answer.statusCode, mergeHeaders(reply.getHeaders(), extra, answer.headers));
      const unsubscribe = answer.attach({ write: (chunk) => raw.write(chunk), end: () => raw.end() });
      raw.once('close', unsubscribe);
      request.raw.socket.once('close', unsubscribe);
    } else {
      reply.code(answer.statusCode).headers(mergeHeaders(extra, answer.headers));
      void reply.send(request.method === 'HEAD' ? undefined : answer.body);
    }
    if (hooks.onAnswered) {
      const answered = {
        method: request.method,
        route: answer.route,
        statusCode: answer.statusCode,
        durationMs: performance.now() - startedAt,
      };
      safely(() => hooks.onAnswered!(answered, request, extra));
    }
    return reply;
  };
  for (const url of health.routes) {
    app.route({ method: METHODS, url, exposeHeadRoute: false, handler });
  }
  done();
};

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined; // a host hook's failure must not break the health answer
  }
}
