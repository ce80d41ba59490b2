// Builds the HTTP app from its parts. It never listens: main.ts does, and tests use port 0.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { AccountStore } from './accounts/account-store.js';
import { accountRoutes } from './accounts/routes.js';
import type { HealthRegistry } from './health/health-registry.js';
import { healthRoutes } from './health/routes.js';
import { errorBody, installErrorHandling } from './http-errors.js';
import type { Lifecycle } from './lifecycle.js';
import type { TestabilitySwitch } from './testability/testability-switch.js';
import { testabilityRoutes } from './testability/routes.js';

export interface AppDeps {
  readonly logger: Logger;
  readonly store: AccountStore;
  readonly health: HealthRegistry;
  readonly detailsAllowed: (authorization: string | undefined) => boolean;
  readonly lifecycle: Lifecycle;
  /** Present only when the testability routes are enabled. */
  readonly testability?: TestabilitySwitch | undefined;
  /** How long an account lookup may wait for the store before answering 503 (default 1000 ms). */
  readonly lookupTimeoutMs?: number | undefined;
}

/** Server timeouts, chosen so a slow or idle client cannot hold a connection for long. */
export const SERVER_TIMEOUTS = {
  /** Whole request, headers and body, must arrive within this. */
  requestTimeoutMs: 10_000,
  /** Idle keep-alive connections close after this; above typical load balancer idle timeouts. */
  keepAliveTimeoutMs: 65_000,
} as const;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: SERVER_TIMEOUTS.requestTimeoutMs,
    keepAliveTimeout: SERVER_TIMEOUTS.keepAliveTimeoutMs,
    routerOptions: { maxParamLength: 1000 },
    bodyLimit: 16 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      // Fastify's own early errors (bad percent-encoding in the URL, bad content type): always a 4xx.
      const statusCode = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 400;
      const message = error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid percent-encoding' : error.message;
      void reply.code(statusCode).send(errorBody(statusCode, message));
    },
  });

  app.addHook('onRequest', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    // While draining, tell keep-alive clients to reconnect elsewhere instead of reusing this socket.
    if (deps.lifecycle.phase === 'shutting-down') reply.header('connection', 'close');
  });

  installErrorHandling(app);
  await app.register(accountRoutes, { store: deps.store, lookupTimeoutMs: deps.lookupTimeoutMs });
  await app.register(healthRoutes, { registry: deps.health, detailsAllowed: deps.detailsAllowed });
  if (deps.testability) await app.register(testabilityRoutes, { testability: deps.testability });
  return app;
}
