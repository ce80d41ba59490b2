// Builds the HTTP app from its parts. It never listens: main.ts does, and tests use port 0.

import { hostname, networkInterfaces } from 'node:os';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerFactory,
  type FastifyServerOptions,
} from 'fastify';
import { withHealth, type AdapterHooks, type Health } from 'health-views';
import type { Logger } from 'pino';
import type { AccountStore } from '../accounts/account-store.js';
import { accountRoutes } from '../accounts/routes.js';
import { servedByAddress } from '../accounts/served-by.js';
import { answerClientError, installErrorHandling } from './errors.js';
import { errorBody } from '../shared/http-error.js';
import { DEFAULT_MAX_QUEUED_RESPONSES } from '../config.js';
import { answerHeaders } from './answer-headers.js';
import { guardConnections, type ConnectionGuard } from './connection-guard.js';
import { guardLogging } from './guard-log.js';
import { originForm } from './request-target.js';
import { createTimedServer, SERVER_TIMEOUTS, type ServerTimeouts } from './server-timeouts.js';
import { answerUnsupportedExpectation } from './unsupported-expectation.js';
import type { Lifecycle } from '../shared/lifecycle.js';
import { METRICS_PATH, type Metrics } from '../metrics/metrics.js';
import { metricsRoutes } from '../metrics/routes.js';
import { REQUEST_ID_HEADER, createUuidSource, requestIdFrom } from '../observability/request-id.js';
import { lazyRequestLoggers } from '../observability/request-logger.js';
import { RequestObserver, UNMATCHED } from '../observability/request-observer.js';
import { truncate } from '../shared/one-line.js';
import type { TestabilitySwitch } from '../testability/testability-switch.js';
import { testabilityRoutes } from '../testability/routes.js';

export interface AppDeps {
  readonly logger: Logger;
  /** Writes the access lines; default logger. */
  readonly accessLogger?: Logger | undefined;
  readonly store: AccountStore;
  /** Answers every health route (views, one check, the watch stream), behind its disclosure gate. */
  readonly health: Health;
  readonly lifecycle: Lifecycle;
  /** Present only when the testability routes are enabled. */
  readonly testability?: TestabilitySwitch | undefined;
  /** How long a slow or silent client may hold a connection. Default SERVER_TIMEOUTS. */
  readonly timeouts?: ServerTimeouts | undefined;
  /** Every answered request is counted into these (absent with METRICS=off). */
  readonly metrics?: Metrics | undefined;
  /** Whether this app serves GET /metrics; false when a separate metrics port does. Default true. */
  readonly serveMetrics?: boolean;
  /** One log line per request (info; debug for /health probes and scrapes). Default true. */
  readonly accessLog?: boolean;
  /** A connection with more answers queued than this (its client does not read) is closed. */
  readonly maxQueuedResponses?: number;
  /** A connection whose queued answers hold more bytes than this is closed (default DEFAULT_MAX_QUEUED_BYTES). */
  readonly maxQueuedBytes?: number;
  /** Most connections open at once; more are closed as they arrive. Default: no limit. */
  readonly maxConnections?: number;
  /** The `servedBy` of every account answer; default: this machine's address (servedByAddress). */
  readonly servedBy?: string | undefined;
}

/** The longest path parameter (an account id) routed; longer gets a 414. */
const MAX_PARAM_LENGTH = 1000;

/**
 * No route declares a JSON schema: ids are checked by hand (accounts/account.ts) and answers are
 * bytes serialised once, when stored. Saying so keeps Fastify from loading ajv and
 * fast-json-stringify, which it would otherwise do at every start for nothing (start time and
 * memory: see bench/REPORT.md). A route that declares a schema makes startup fail with this message.
 */
const NO_SCHEMA_COMPILERS: FastifyServerOptions['schemaController'] = {
  compilersFactory: {
    buildValidator: () => {
      throw new Error(
        'JSON schema validation is not loaded in this service: validate by hand, or remove schemaController from buildApp',
      );
    },
    buildSerializer: () => {
      throw new Error(
        'JSON schema serialisation is not loaded in this service: send bytes or plain objects, or remove schemaController from buildApp',
      );
    },
  },
};

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const edge = requestEdge(deps);
  const app: FastifyInstance = Fastify(fastifyOptions(deps, edge));
  const connections = guardServiceConnections(app, deps);
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const startedAt = performance.now();
    const headers = edge.headersOf(request);
    answerUnsupportedExpectation(response, headers);
    // Answered outside Fastify, as the health routes are: logged and counted the same way.
    const answered = {
      method: request.method ?? 'GET',
      route: UNMATCHED,
      statusCode: 417,
      durationMs: performance.now() - startedAt,
    };
    edge.observer.observeAnswered(answered, originForm(request.url ?? '/'), headers[REQUEST_ID_HEADER] ?? '');
  });
  app.addHook('preClose', (done) => {
    connections.beginClosing();
    done();
  });
  // Callback style: an async hook costs a promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(answerHeaders(request.id, edge.draining()));
    if (connections.closing) {
      void reply.code(503).header('retry-after', '1').send(errorBody(503, 'the service is shutting down; try again'));
      return;
    }
    done();
  });
  await registerRoutes(app, deps);
  return app;
}

/** What every request meets at the edge, whoever answers it: its id, its headers, its observer. */
interface RequestEdge {
  /** Writes the access line and counts the request into the metrics. */
  readonly observer: RequestObserver;
  /** The request's id: its X-Request-Id when sane, else a fresh one. */
  readonly requestIdOf: (request: IncomingMessage) => string;
  /** The headers every answer carries (answer-headers.ts), for a request Fastify has not seen. */
  readonly headersOf: (request: IncomingMessage) => Record<string, string>;
  /** True while the service drains: answers say Connection: close. */
  readonly draining: () => boolean;
}

function requestEdge(deps: AppDeps): RequestEdge {
  const { metrics, lifecycle } = deps;
  const observer = new RequestObserver({
    logger: deps.accessLogger ?? deps.logger,
    accessLog: deps.accessLog ?? true,
    onCompleted: metrics
      ? (method, route, statusCode, durationMs) => metrics.observeRequest(method, route, statusCode, durationMs)
      : undefined,
    unobservedRoutes: [METRICS_PATH],
  });
  // Made 256 at a time, each a flat string: a fresh id is made for every request that brings none.
  const freshId = createUuidSource();
  const requestIdOf = (request: IncomingMessage): string => requestIdFrom(request.headers[REQUEST_ID_HEADER], freshId);
  const draining = (): boolean => lifecycle.phase === 'shutting-down';
  return { observer, requestIdOf, headersOf: (request) => answerHeaders(requestIdOf(request), draining()), draining };
}

function fastifyOptions(deps: AppDeps, edge: RequestEdge): FastifyServerOptions {
  const { observer } = edge;
  // The same headers on a health answer as on every other answer; counted and logged as any route.
  const healthHooks: AdapterHooks<IncomingMessage> = {
    headers: edge.headersOf,
    onAnswered: (answered, request, headers) =>
      observer.observeAnswered(answered, originForm(request.url ?? '/'), headers?.[REQUEST_ID_HEADER] ?? ''),
  };
  return {
    // Health probes are answered before Fastify: pre-rendered bytes, no routing, no hooks. The
    // server's timeouts are set there: Fastify sets its own only on a server it creates.
    serverFactory: healthFirstServer(deps.health, healthHooks, deps.timeouts ?? SERVER_TIMEOUTS),
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- it picks the instance's logger type
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: observer,
    childLoggerFactory: lazyRequestLoggers,
    genReqId: edge.requestIdOf,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Absolute-form targets are routed, logged and quoted in errors as their origin form.
    rewriteUrl: (req) => originForm(req.url ?? '/'),
    schemaController: NO_SCHEMA_COMPILERS,
    bodyLimit: 16 * 1024,
    // Answered in the onRequest hook instead, with the headers and body shape of every other error.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, request, reply: FastifyReply) => {
      // Fastify's own early errors (bad percent-encoding in the URL, bad content type): always a 4xx.
      const statusCode = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 400;
      const message = frameworkErrorMessage(error);
      observer.observeFrameworkError(request, reply);
      // The onRequest hook has not run yet.
      reply.headers(answerHeaders(request.id, edge.draining()));
      void reply.code(statusCode).send(errorBody(statusCode, message));
    },
  };
}

/** The connection guard on the service port, its lines in the log, and its closing with the app. */
function guardServiceConnections(app: FastifyInstance, deps: AppDeps): ConnectionGuard {
  return guardConnections(app.server, {
    maxQueuedResponses: deps.maxQueuedResponses ?? DEFAULT_MAX_QUEUED_RESPONSES,
    ...(deps.maxQueuedBytes === undefined ? {} : { maxQueuedBytes: deps.maxQueuedBytes }),
    ...(deps.maxConnections === undefined ? {} : { maxConnections: deps.maxConnections }),
    ...guardLogging(app.log, {
      port: 'service',
      maxConnections: deps.maxConnections ?? Infinity,
      limit: 'HTTP_MAX_CONNECTIONS allows',
    }),
  });
}

/** The error handler and the routes: accounts, then the switch and /metrics when there are any. */
async function registerRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  installErrorHandling(app);
  await app.register(accountRoutes, {
    store: deps.store,
    servedBy: deps.servedBy ?? servedByAddress(networkInterfaces(), hostname()),
  });
  // Watch streams never finish on their own: end them first, or closing would wait for them.
  app.addHook('preClose', async () => deps.health.close('shutting down'));
  if (deps.testability) await app.register(testabilityRoutes, { testability: deps.testability });
  if (deps.metrics && (deps.serveMetrics ?? true)) await app.register(metricsRoutes, { metrics: deps.metrics });
}

/**
 * The HTTP server with health-views' interceptor in front of Fastify's handler (terminus-style).
 * Fastify applies its timeouts only to a server it creates itself, so they are set here.
 */
function healthFirstServer(
  health: Health,
  hooks: AdapterHooks<IncomingMessage>,
  timeouts: ServerTimeouts,
): FastifyServerFactory<Server> {
  return (handler) => createTimedServer(timeouts, withHealth(health, handler, hooks));
}

/** Fastify's early errors in words of our own where its message quotes the request (a 1000-character id, say). */
function frameworkErrorMessage(error: FastifyError): string {
  if (error.code === 'FST_ERR_BAD_URL') return 'the URL is not valid percent-encoding';
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return `a path segment is longer than ${MAX_PARAM_LENGTH} characters`;
  return truncate(error.message, 200);
}
