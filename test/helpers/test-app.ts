// Runs the real service (src/service/service.ts, the wiring main.ts runs) on a free port on
// 127.0.0.1, with test settings passed as environment variables through loadConfig and the parts a
// test injects (a store, short timeouts) through the service's one seam, ServiceSeams.

import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { loadConfig, type Env, type HealthDetailsMode } from '../../src/config.js';
import { InMemoryAccountStore, type AccountStore } from '../../src/accounts/account-store.js';
import type { Health } from 'health-views';
import type { Lifecycle } from '../../src/shared/lifecycle.js';
import type { TestabilitySwitch } from '../../src/testability/testability-switch.js';
import type { Metrics } from '../../src/metrics/metrics.js';
import { seedAccounts } from '../../src/accounts/seed.js';
import { createService, type Service } from '../../src/service/service.js';
import type { ServerTimeouts } from '../../src/http/server-timeouts.js';

export interface TestAppOptions {
  /** Served as it is; default: an in-memory store seeded with SEED_ACCOUNTS (100) accounts. */
  readonly store?: AccountStore;
  readonly testability?: boolean;
  readonly details?: HealthDetailsMode;
  readonly token?: string;
  readonly checkIntervalMs?: number;
  readonly checkTimeoutMs?: number;
  readonly logger?: Logger;
  /**
   * Count requests and serve GET /metrics, as METRICS=on does. Default false: each metrics
   * registry keeps Node's default-metric monitors (event loop, GC) for the life of the process.
   */
  readonly metrics?: boolean;
  /** With metrics: serve GET /metrics on the app's port (true) or on a port of its own (false). Default true. */
  readonly serveMetrics?: boolean;
  /** One log line per request, as ACCESS_LOG does. Default true (only seen with a logger given). */
  readonly accessLog?: boolean;
  /** /health/watch limits. */
  readonly watch?: { readonly maxSubscribers: number; readonly heartbeatMs: number };
  /** Any other setting, as the environment would give it (applied last). */
  readonly env?: Env;
  /** Server timeouts (short ones for slow-client tests). */
  readonly timeouts?: Partial<ServerTimeouts>;
}

export interface TestApp {
  readonly url: string;
  readonly service: Service;
  readonly app: FastifyInstance;
  readonly store: AccountStore;
  readonly health: Health;
  readonly lifecycle: Lifecycle;
  readonly testability: TestabilitySwitch | undefined;
  readonly metrics: Metrics | undefined;
  close(): Promise<void>;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const env: Record<string, string | undefined> = {
    PORT: '0',
    HOST: '127.0.0.1',
    SEED_ACCOUNTS: '100',
    HEALTH_DETAILS: options.details ?? 'always',
    HEALTH_TOKEN: options.token,
    HEALTH_CHECK_INTERVAL_MS: String(options.checkIntervalMs ?? 50),
    HEALTH_CHECK_TIMEOUT_MS: String(options.checkTimeoutMs ?? 200),
    HEALTH_EVENT_LOOP_LIMIT_MS: '5000',
    TESTABILITY_ENABLED: String(options.testability ?? false),
    METRICS: options.metrics ? 'on' : 'off',
    METRICS_PORT: options.metrics && options.serveMetrics === false ? '0' : undefined,
    ACCESS_LOG: options.accessLog === false ? 'off' : 'on',
    HEALTH_WATCH_MAX_SUBSCRIBERS: options.watch ? String(options.watch.maxSubscribers) : undefined,
    HEALTH_WATCH_HEARTBEAT_MS: options.watch ? String(options.watch.heartbeatMs) : undefined,
    ...options.env,
  };
  const config = loadConfig(env);
  const store = options.store ?? (await seededMemoryStore(config.seedAccounts));
  const service = createService(
    config,
    { logger: options.logger ?? pino({ level: 'silent' }) },
    { store, ...(options.timeouts ? { timeouts: options.timeouts } : {}) },
  );
  try {
    await service.start();
    const url = await service.listen();
    return {
      url,
      service,
      app: service.app,
      store: service.store,
      health: service.health,
      lifecycle: service.lifecycle,
      testability: service.testability,
      metrics: service.metrics,
      close: () => service.close(),
    };
  } catch (error) {
    await service.close();
    throw error;
  }
}

/** An in-memory store holding the seed's accounts, as the service's own seeding leaves its store. */
export async function seededMemoryStore(accounts: number): Promise<InMemoryAccountStore> {
  const store = new InMemoryAccountStore();
  await store.seed(seedAccounts(accounts));
  return store;
}
