// The HTTP face of the health registry: /health and its live, ready and started views,
// and /health/checks/:name for one check alone.

import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { httpError } from '../http-errors.js';
import type { HealthRegistry, HealthView, Transition } from './health-registry.js';
import { chooseFormat, renderHealth, type Renderable } from './render.js';
import { sseEvent, type WatchHub } from './watch.js';

export interface HealthRoutesOptions {
  readonly registry: HealthRegistry;
  /** Whether a request's Authorization header allows details. */
  readonly detailsAllowed: (authorization: string | undefined) => boolean;
  /** Live transitions for /health/watch; the route is absent without it. */
  readonly watch?: WatchHub | undefined;
}

interface HealthQuery {
  readonly details?: string | string[];
  readonly verbose?: string | string[];
  readonly exclude?: string | string[];
}

const VIEW_PATHS: ReadonlyArray<readonly [string, HealthView]> = [
  ['/health', 'health'],
  ['/health/live', 'live'],
  ['/health/ready', 'ready'],
  ['/health/started', 'started'],
];

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { registry, detailsAllowed, watch }) => {
  function send(request: FastifyRequest<{ Querystring: HealthQuery }>, reply: FastifyReply, report: Renderable) {
    const verbose = flag(request.query.verbose);
    // Details need both: the client asks (?details or ?verbose) and the policy allows.
    const details = (verbose || flag(request.query.details)) && detailsAllowed(request.headers.authorization);
    const history: readonly Transition[] | undefined = details ? registry.history() : undefined;
    const rendered = renderHealth(report, {
      format: chooseFormat(request.headers.accept, verbose),
      details,
      ...(history === undefined ? {} : { history }),
    });
    return reply
      .code(rendered.statusCode)
      .header('cache-control', 'no-store')
      .header('content-type', rendered.contentType)
      .send(rendered.body);
  }

  for (const [path, view] of VIEW_PATHS) {
    app.get<{ Querystring: HealthQuery }>(path, async (request, reply) => {
      const exclude = list(request.query.exclude);
      const report = await registry.evaluate(view, exclude.length === 0 ? undefined : { exclude });
      return send(request, reply, report);
    });
  }

  app.get<{ Params: { name: string }; Querystring: HealthQuery }>('/health/checks/:name', async (request, reply) => {
    const check = await registry.evaluateCheck(request.params.name);
    if (check === undefined) {
      throw httpError(404, `no health check named ${JSON.stringify(request.params.name.slice(0, 100))}; there are: ${registry.checkNames().join(', ')}`);
    }
    // Asked about one check, the caller wants its own verdict, critical or not.
    return send(request, reply, { view: check.name, status: check.status === 'UP' ? 'UP' : 'DOWN', checks: [check] });
  });

  if (watch) {
    // Server-Sent Events: a snapshot of every check, then one event a transition, heartbeats between.
    app.get('/health/watch', async (request, reply) => {
      if (!detailsAllowed(request.headers.authorization)) {
        throw httpError(403, 'watching health transitions needs the details permission (see HEALTH_DETAILS)');
      }
      const report = await registry.evaluate('health');
      const raw = reply.raw;
      // Subscribed in the same tick as the snapshot is taken, so no transition falls between them.
      const unsubscribe = watch.subscribe({ write: (chunk) => raw.write(chunk), end: () => raw.end() });
      if (unsubscribe === undefined) throw httpError(503, 'too many health watchers right now; try again later');
      reply.hijack();
      // A hijacked reply writes nothing itself: carry over what the app's hooks set on it
      // (nosniff, the request id), then the stream's own headers.
      raw.writeHead(200, {
        ...(reply.getHeaders() as OutgoingHttpHeaders),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      raw.write(sseEvent('snapshot', { status: report.status, checks: report.checks }));
      request.raw.socket.once('close', unsubscribe);
    });
  }
};

/** A query flag is on when present, unless it says false or 0 (?verbose, ?details=true). */
function flag(value: string | string[] | undefined): boolean {
  if (value === undefined) return false;
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last !== 'false' && last !== '0';
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')).filter((item) => item !== '');
}
