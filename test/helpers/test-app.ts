// Runs the real service (src/service.ts, the wiring main.ts runs) on a free port on 127.0.0.1, with
// test settings passed as environment variables through loadConfig and injected parts as deps.

import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { loadConfig, type Env, type HealthDetailsMode } from '../../src/config.js';
import { InMemoryAccountStore, type AccountStore } from '../../src/accounts/account-store.js';
import type { Health } from 'health-views';
import type { Lifecycle } from '../../src/shared/lifecycle.js';
import type { TestabilitySwitch } from '../../src/testability/testability-switch.js';
import type { Clock } from '../../src/health/clock.js';
import type { Metrics } from '../../src/metrics/metrics.js';
import { createService, type Service } from '../../src/service/service.js';
import type { ServerTimeouts } from '../../src/http/app.js';

export interface TestAppOptions {
  /** Defaults to an in-memory store, seeded with 100 accounts by the service. */
  readonly store?: AccountStore;
  readonly testability?: boolean;
  readonly details?: HealthDetailsMode;
  readonly token?: string;
  readonly checkIntervalMs?: number;
  readonly checkTimeoutMs?: number;
  readonly clock?: Clock;
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
  /** Leave the lifecycle in 'starting' (startup check DOWN) until the test marks it serving. */
  readonly starting?: boolean;
  /** /health/watch limits. */
  readonly watch?: { readonly maxSubscribers: number; readonly heartbeatMs: number };
  /** Any other setting, as the environment would give it (applied last). */
  readonly env?: Env;
  /** Server timeouts (short ones for slow-client tests). */
  readonly timeouts?: Partial<ServerTimeouts>;
  readonly healthAdapter?: 'interceptor' | 'plugin';
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
  const service = createService(loadConfig(env), {
    logger: options.logger ?? pino({ level: 'silent' }),
    store: options.store ?? new InMemoryAccountStore(),
    seedGivenStore: options.store === undefined,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.starting ? { stayStarting: true } : {}),
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    ...(options.healthAdapter ? { healthAdapter: options.healthAdapter } : {}),
  });
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
