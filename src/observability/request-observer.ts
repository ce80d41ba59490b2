// Sees every answered request once: writes its access log line and hands it to the request
// metrics. It is fastify's LogController, whose requestCompleted fastify calls for every
// response anyway, so observing costs no hook of its own on the request path.

import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { createAccessLineWriter, type AccessLineWriter } from './access-line.js';
import { truncate } from '../shared/one-line.js';

/** The route label of requests no route matched (404s, malformed URLs). */
export const UNMATCHED = 'unmatched';

export interface RequestObserverOptions {
  /** The service's logger: access lines carry the request id as a field, so no per-request child is needed. */
  readonly logger: Logger;
  /** One line per answered request: info, or debug for probes and scrapes. */
  readonly accessLog: boolean;
  /** Called once per answered request with its route template, except for unobservedRoutes. */
  readonly onCompleted?: ((method: string, route: string, statusCode: number, durationMs: number) => void) | undefined;
  /** Routes never passed to onCompleted (the metrics route must not count its own scrapes). */
  readonly unobservedRoutes?: readonly string[];
}

/** The log field that carries the request id. */
const REQUEST_ID_LOG_LABEL = 'requestId';

/** Health probes, /health and everything under it, are logged at debug: they come every few seconds. */
export function isHealthRoute(route: string): boolean {
  return route === '/health' || route.startsWith('/health/');
}

/** What a route's requests get: decided once per route, not per request. */
interface RoutePolicy {
  readonly level: 'info' | 'debug';
  readonly observed: boolean;
}

const MAX_LOGGED_URL = 200;

/** One access log line's fields, under the request id's label. */
interface AccessLogFields {
  readonly [requestIdLabel: string]: unknown;
  readonly method: string;
  /** The route template, or "unmatched". */
  readonly route: string;
  /** The URL as requested, cut at 200 characters. */
  readonly url: string;
  readonly statusCode: number;
  readonly durationMs: number;
  err?: Error;
}

export class RequestObserver extends LogController {
  private readonly accessLog: boolean;
  private readonly logger: Logger;
  private readonly onCompleted: RequestObserverOptions['onCompleted'];
  private readonly unobserved: ReadonlySet<string>;
  private readonly policies = new Map<string, RoutePolicy>();
  /** Writes the line of an answer that did not fail as pino would, without pino's per-call work. */
  private readonly writeLine: AccessLineWriter | undefined;

  constructor(options: RequestObserverOptions) {
    // Fastify's own per-request lines (incoming, completed, its default 404 and error handlers'
    // lines) stay off: this class writes the one access line, and http/errors.ts logs 5xx causes.
    super({ disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_LOG_LABEL });
    this.accessLog = options.accessLog;
    this.logger = options.logger;
    this.writeLine = createAccessLineWriter(options.logger, REQUEST_ID_LOG_LABEL);
    this.onCompleted = options.onCompleted;
    this.unobserved = new Set(options.unobservedRoutes ?? []);
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    this.completed(error, request, reply, reply.elapsedTime);
  }

  /**
   * Requests fastify rejects before routing (bad percent-encoding in the URL) never reach
   * requestCompleted by themselves: frameworkErrors hands them here before replying.
   */
  observeFrameworkError(request: FastifyRequest, reply: FastifyReply): void {
    const startedAt = performance.now();
    reply.raw.once('finish', () => this.completed(null, request, reply, performance.now() - startedAt));
  }

  /**
   * Requests answered before Fastify sees them (the health routes, by health-views' node:http
   * interceptor): counted and logged as any other, with the request id the answer carried.
   */
  observeAnswered(
    answered: {
      readonly method: string;
      readonly route: string;
      readonly statusCode: number;
      readonly durationMs: number;
    },
    url: string,
    requestId: string,
  ): void {
    this.record(null, answered.method, answered.route, url, answered.statusCode, answered.durationMs, requestId);
  }

  private completed(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    durationMs: number,
  ): void {
    if (!this.accessLog && this.onCompleted === undefined) return; // METRICS=off and ACCESS_LOG=off: nothing to do
    const route = request.is404 ? UNMATCHED : (request.routeOptions.url ?? UNMATCHED);
    this.record(error, request.method, route, request.url, reply.statusCode, durationMs, request.id);
  }

  private record(
    error: Error | null | undefined,
    method: string,
    route: string,
    requestUrl: string,
    statusCode: number,
    durationMs: number,
    requestId: string,
  ): void {
    const policy = this.policyOf(route);
    if (policy.observed && this.onCompleted !== undefined) this.onCompleted(method, route, statusCode, durationMs);
    if (!this.accessLog) return;
    const log = this.logger;
    if (!log.isLevelEnabled(policy.level)) return;
    const url = truncate(requestUrl, MAX_LOGGED_URL);
    const rounded = Math.round(durationMs * 100) / 100;
    if (!error && this.writeLine !== undefined) {
      const msg = `${method} ${url} ${statusCode} ${rounded} ms`;
      this.writeLine(policy.level, { requestId, method, route, url, statusCode, durationMs: rounded, msg });
      return;
    }
    // The request id first, where a child logger's binding would put it: the same line either way.
    const fields: AccessLogFields = {
      [REQUEST_ID_LOG_LABEL]: requestId,
      method,
      route,
      url,
      statusCode,
      durationMs: rounded,
    };
    if (error) {
      fields.err = error;
      log[policy.level](fields, `${method} ${url} ${statusCode} ${rounded} ms: response failed: ${error.message}`);
      return;
    }
    log[policy.level](fields, `${method} ${url} ${statusCode} ${rounded} ms`);
  }

  private policyOf(route: string): RoutePolicy {
    let policy = this.policies.get(route);
    if (policy === undefined) {
      const observed = !this.unobserved.has(route);
      // Probes and scrapes at debug: at info they would drown the lines of real requests.
      policy = { level: isHealthRoute(route) || !observed ? 'debug' : 'info', observed };
      this.policies.set(route, policy);
    }
    return policy;
  }
}
