// The Fastify adapter: the same routes and answers as Fastify routes, so the app's own hooks
// (headers, request ids, metrics, @fastify/cors) apply as to any route. Fastify is described here
// by the few members the plugin uses, not imported: this file and its .d.ts need no Fastify
// installed, and Fastify is an optional peer dependency.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerOf, hostHeaders, reportAnswered } from './adapter.js';
import { mergeHeaders } from './headers.js';
import { writeStream } from './node-http.js';
import type { AdapterHooks, Health, HealthRequest } from './types.js';

/** The members of a Fastify request the plugin reads (a `FastifyRequest` has them). */
export interface FastifyRequestLike {
  readonly method: string;
  /** The whole URL as received, prefix included. */
  readonly url: string;
  readonly headers: HealthRequest['headers'];
  readonly raw: IncomingMessage;
}

/** The members of a Fastify reply the plugin uses (a `FastifyReply` has them). */
export interface FastifyReplyLike {
  readonly raw: ServerResponse;
  code(statusCode: number): FastifyReplyLike;
  headers(values: Record<string, string | number | string[]>): FastifyReplyLike;
  getHeaders(): Record<string, string | number | string[] | undefined>;
  send(payload?: Buffer): FastifyReplyLike;
  hijack(): FastifyReplyLike;
  callNotFound(): void;
}

type Handler = (request: FastifyRequestLike, reply: FastifyReplyLike) => void;

/** The members of a Fastify instance the plugin uses (a `FastifyInstance` has them). */
export interface FastifyInstanceLike {
  /** The prefix the plugin was registered with (`''` for none). */
  readonly prefix: string;
  readonly supportedMethods: readonly string[];
  route(options: { method: string[]; url: string; exposeHeadRoute?: boolean; handler: Handler }): unknown;
  addHook(
    name: 'preParsing',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, payload: unknown, done: () => void) => void,
  ): unknown;
}

export interface HealthPluginOptions {
  readonly health: Health;
  /** `headers` and `onAnswered` receive the Fastify request. */
  readonly hooks?: AdapterHooks<FastifyRequestLike>;
}

/** A Fastify plugin (a `FastifyPluginCallback`): `await app.register(healthPlugin, { health })`. */
export type HealthPlugin = (
  app: FastifyInstanceLike,
  options: HealthPluginOptions,
  done: (error?: Error) => void,
) => void;

/**
 * Registers every route of `health`, for every method Fastify supports (so the package, not
 * Fastify's 404, answers 405 with Allow and OPTIONS with 204), under the prefix it is registered
 * with. Left encapsulated (no skip-override): its routes see the hooks of the contexts above, and
 * its one hook stays with them. GET, HEAD and a bodiless OPTIONS (a preflight) reach the handler
 * through every hook of the app; any other request is answered in this plugin's preParsing hook,
 * before Fastify would read or parse its body (no 415, no 413, whatever its type or size).
 */
export const healthPlugin: HealthPlugin = (app, { health, hooks = {} }, done) => {
  const prefix = app.prefix;
  const respond: Handler = (request, reply) => {
    answerWith(health, hooks, prefix === '' ? request.url : withoutPrefix(request.url, prefix), request, reply);
  };
  app.addHook('preParsing', (request, reply, _payload, next) => {
    if (reachesHandler(request)) next();
    else respond(request, reply);
  });
  for (const url of health.routes) {
    app.route({ method: [...app.supportedMethods], url, exposeHeadRoute: false, handler: respond });
  }
  done();
};

function answerWith(
  health: Health,
  hooks: AdapterHooks<FastifyRequestLike>,
  url: string,
  request: FastifyRequestLike,
  reply: FastifyReplyLike,
): void {
  const startedAt = hooks.onAnswered ? performance.now() : 0;
  const answer = answerOf(health, { method: request.method, url, headers: request.headers });
  if (answer === undefined) {
    reply.callNotFound();
    return;
  }
  const extra = hostHeaders(hooks, request);
  if (answer.kind === 'stream') {
    reply.hijack();
    // A hijacked reply writes nothing itself: carry over what the app's hooks set on it.
    writeStream(request.raw, reply.raw, answer, mergeHeaders(reply.getHeaders(), extra));
  } else {
    reply.code(answer.statusCode).headers(mergeHeaders(extra, answer.headers));
    reply.send(request.method === 'HEAD' ? undefined : answer.body);
  }
  reportAnswered(hooks, request, request.method, answer, startedAt, extra);
}

/**
 * The URL the package knows, from one Fastify routed under `prefix`: its path starts with the
 * prefix, after the scheme and host when the target is in absolute form (`GET http://host/ops/...`).
 */
function withoutPrefix(url: string, prefix: string): string {
  const pathAt = url.startsWith('/') ? 0 : url.indexOf('/', url.indexOf('//') + 2);
  return pathAt < 0 ? url : url.slice(pathAt + prefix.length);
}

/** Whether a request goes on to the route's handler: only those Fastify reads no body of. */
function reachesHandler({ method, headers }: FastifyRequestLike): boolean {
  if (method === 'GET' || method === 'HEAD') return true;
  // Fastify's own test for "no body to parse" (lib/handle-request.js), for a preflight.
  const length = headers['content-length'];
  return (
    method === 'OPTIONS' &&
    headers['content-type'] === undefined &&
    headers['transfer-encoding'] === undefined &&
    (length === undefined || length === '0')
  );
}
