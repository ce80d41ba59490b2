// Builds the real app around real or injected parts and listens on a free port on 127.0.0.1.

import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from '../../src/app.js';
import { InMemoryAccountStore, type AccountStore } from '../../src/accounts/account-store.js';
import { seedAccounts } from '../../src/accounts/seed.js';
import { createEventLoopMonitor, createServiceChecks } from '../../src/health/checks.js';
import { createHealthRegistry, type HealthRegistry } from '../../src/health/health-registry.js';
import { createDetailsPolicy } from '../../src/health/render.js';
import type { HealthDetailsMode } from '../../src/config.js';
import { createLifecycle, type Lifecycle } from '../../src/lifecycle.js';
import { createTestabilitySwitch, type TestabilitySwitch } from '../../src/testability/testability-switch.js';
import type { Clock } from '../../src/health/clock.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { createWatchHub, type WatchHub } from '../../src/health/watch.js';

export interface TestAppOptions {
  /** Defaults to an in-memory store seeded with 100 accounts. */
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
  /** With metrics: serve GET /metrics on the app's port, as an empty METRICS_PORT does. Default true. */
  readonly serveMetrics?: boolean;
  /** One log line per request, as ACCESS_LOG does. Default true (only seen with a logger given). */
  readonly accessLog?: boolean;
  /** Leave the lifecycle in 'starting' (startup check DOWN) until the test marks it serving. */
  readonly starting?: boolean;
  /** Serve /health/watch with these limits. */
  readonly watch?: { readonly maxSubscribers: number; readonly heartbeatMs: number };
}

export interface TestApp {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly store: AccountStore;
  readonly registry: HealthRegistry;
  readonly lifecycle: Lifecycle;
  readonly testability: TestabilitySwitch | undefined;
  readonly watch: WatchHub | undefined;
  readonly metrics: Metrics | undefined;
  close(): Promise<void>;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const store = options.store ?? new InMemoryAccountStore();
  if (options.store === undefined) await store.seed(seedAccounts(100));
  const lifecycle = createLifecycle();
  if (!options.starting) lifecycle.markServing();
  const testability = options.testability ? createTestabilitySwitch() : undefined;
  const eventLoop = createEventLoopMonitor();
  const registry = createHealthRegistry(
    createServiceChecks({
      store,
      lifecycle,
      testability,
      eventLoop,
      checkIntervalMs: options.checkIntervalMs ?? 50,
      checkTimeoutMs: options.checkTimeoutMs ?? 200,
      eventLoopDelayLimitMs: 5000,
    }),
    options.clock ? { clock: options.clock } : {},
  );
  // Subscribed before the checks first run, as main.ts does, so their first transitions count.
  const metrics = options.metrics ? createMetrics(registry) : undefined;
  await registry.start();
  const watch = options.watch ? createWatchHub(registry, options.watch) : undefined;
  const app = await buildApp({
    logger: options.logger ?? pino({ level: 'silent' }),
    store,
    health: registry,
    detailsAllowed: createDetailsPolicy(options.details ?? 'always', options.token),
    lifecycle,
    testability,
    watch,
    metrics,
    serveMetrics: options.serveMetrics ?? true,
    accessLog: options.accessLog ?? true,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    app,
    store,
    registry,
    lifecycle,
    testability,
    watch,
    metrics,
    async close() {
      metrics?.close();
      registry.stop();
      eventLoop.stop();
      await app.close();
    },
  };
}
