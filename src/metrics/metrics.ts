// The service's Prometheus metrics on a registry of their own (never prom-client's global one, so
// many apps can live in one process): request counts and durations by route template, the health
// checks' states, durations and transitions, and Node's default process metrics.
// No HTTP framework here: routes.ts and http/metrics-port.ts serve render()'s text.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CheckReport, CheckStatus, Health, ViewStatus, WatcherDropped } from 'health-views';
import { createRequestHistogram } from './request-histogram.js';

/** The path Prometheus scrapes, on the service's port or on a metrics port of its own. */
export const METRICS_PATH = '/metrics';
/** The prefix of the service's own metric names; Node's default metrics keep their usual names. */
export const METRIC_PREFIX = 'accountservice_';

/** Upper bounds in seconds: few, so each route and status costs few series. */
export const REQUEST_DURATION_BUCKETS: readonly number[] = [0.001, 0.005, 0.025, 0.1, 0.5, 2.5];

const CHECK_STATUSES: readonly CheckStatus[] = ['UP', 'DOWN', 'UNKNOWN'];
const VIEW_STATUSES: readonly ViewStatus[] = ['UP', 'WARN', 'DOWN'];
const DROP_REASONS: readonly WatcherDropped['reason'][] = ['behind', 'failed'];

export interface Metrics {
  /** The Content-Type of render()'s text. */
  readonly contentType: string;
  /**
   * Records one answered request. route is the route template (/accounts/:accountId), never the
   * raw URL: requests no route matched all share one label ("unmatched"), so random URLs add no series.
   */
  observeRequest(method: string, route: string, statusCode: number, durationMs: number): void;
  /** Every metric in the Prometheus text format. Runs no health check: it reads the last results. */
  render(): Promise<string>;
  /**
   * Starts Node's process metrics, once: the service calls it when it listens, so its first healthy
   * answer does not wait for them. The first render() starts them too, should it come first.
   */
  startProcessMetrics(): void;
  /** Stops counting health status changes and dropped watchers. */
  close(): void;
}

export interface MetricsOptions {
  /** Log lines dropped so far because stdout did not take them (log-destination.ts). */
  readonly droppedLogLines?: () => number;
}

/** What the service's metrics read from health-views: the checks and views, and their events. */
type HealthSource = Pick<Health, 'checkNames' | 'viewNames' | 'check' | 'view' | 'on' | 'onWatcherDropped'>;

export function createMetrics(health: HealthSource, options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  let processMetricsPending = true;
  const startProcessMetrics = (): void => {
    if (!processMetricsPending) return;
    processMetricsPending = false;
    collectDefaultMetrics({ register: registry });
  };
  // On the request path, so kept by hand (request-histogram.ts says why); written after the rest.
  const requestDuration = createRequestHistogram(
    `${METRIC_PREFIX}http_request_duration_seconds`,
    'Time from routing a request to the end of its response, by method, route template and status code. Its _count is the request count.',
    REQUEST_DURATION_BUCKETS,
  );
  const stopChecks = checkMetrics(health, registers);
  const stopViews = viewMetrics(health, registers);
  const stopDrops = countDroppedWatchers(health, registers);
  if (options.droppedLogLines !== undefined) countDroppedLogLines(options.droppedLogLines, registers);
  return {
    contentType: registry.contentType,
    observeRequest(method, route, statusCode, durationMs) {
      requestDuration.observe(method, route, statusCode, durationMs / 1000);
    },
    // prom-client separates metrics with a blank line and ends with a newline: the same here.
    render: async () => {
      startProcessMetrics();
      return `${await registry.metrics()}\n${requestDuration.render()}`;
    },
    startProcessMetrics,
    close: () => {
      stopChecks();
      stopViews();
      stopDrops();
    },
  };
}

/**
 * Each check's state, as gauges read at scrape time (reading them runs no check), and its status
 * changes; returns the function that stops counting them.
 */
function checkMetrics(health: HealthSource, registers: Registry[]): () => void {
  // Each check under its own policy.
  const states = (): readonly CheckReport[] => health.checkNames.map((name) => health.check(name)!);
  new Gauge({
    name: `${METRIC_PREFIX}health_check_up`,
    help: 'Whether the health check is UP (1) or not (0: DOWN, or UNKNOWN before its first result or when its result is stale).',
    labelNames: ['check'],
    registers,
    collect() {
      for (const state of states()) this.set({ check: state.name }, state.status === 'UP' ? 1 : 0);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}health_check_status`,
    help: 'The health check status as a state set: 1 for the current status (UP, DOWN or UNKNOWN), 0 for the others.',
    labelNames: ['check', 'status'],
    registers,
    collect() {
      for (const state of states()) {
        for (const status of CHECK_STATUSES) this.set({ check: state.name, status }, state.status === status ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}health_check_duration_seconds`,
    help: 'How long the last run of the health check took.',
    labelNames: ['check'],
    registers,
    collect() {
      for (const state of states()) {
        if (state.durationMs !== undefined) this.set({ check: state.name }, state.durationMs / 1000);
      }
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}health_check_last_run_timestamp_seconds`,
    help: 'When the last run of the health check finished, in seconds since the epoch: a background check whose timestamp stops moving has stopped running.',
    labelNames: ['check'],
    registers,
    collect() {
      for (const state of states()) {
        if (state.lastResultAt !== undefined) this.set({ check: state.name }, Date.parse(state.lastResultAt) / 1000);
      }
    },
  });
  const transitions = new Counter({
    name: `${METRIC_PREFIX}health_check_transitions_total`,
    help: 'Status changes of the health check, by the status it left and the one it entered.',
    labelNames: ['check', 'from', 'to'],
    registers,
  });
  // Every series exists from the start at 0, so increase() sees the first transition too.
  for (const check of health.checkNames) {
    for (const [from, to] of changes(CHECK_STATUSES)) transitions.inc({ check, from, to }, 0);
  }
  return health.on((event) => {
    if (event.type === 'check') transitions.inc({ check: event.check, from: event.from, to: event.to });
  });
}

/** Each view's status as its probe would answer now, and its changes; returns the function that stops counting them. */
function viewMetrics(health: HealthSource, registers: Registry[]): () => void {
  new Gauge({
    name: `${METRIC_PREFIX}health_view_up`,
    help: 'Whether the health view answers 200 (1: UP or WARN) or 503 (0: DOWN), as its probe would now.',
    labelNames: ['view'],
    registers,
    collect() {
      for (const view of health.viewNames) this.set({ view }, health.view(view)!.status === 'DOWN' ? 0 : 1);
    },
  });
  const transitions = new Counter({
    name: `${METRIC_PREFIX}health_view_transitions_total`,
    help: "Changes of the health view's overall status, by the status it left and the one it entered.",
    labelNames: ['view', 'from', 'to'],
    registers,
  });
  for (const view of health.viewNames) {
    for (const [from, to] of changes(VIEW_STATUSES)) transitions.inc({ view, from, to }, 0);
  }
  return health.on((event) => {
    if (event.type === 'view') transitions.inc({ view: event.view, from: event.from, to: event.to });
  });
}

/** Every (from, to) pair of two different statuses. */
function changes<T>(statuses: readonly T[]): [T, T][] {
  return statuses.flatMap((from) => statuses.filter((to) => to !== from).map((to): [T, T] => [from, to]));
}

/** Log lines dropped because stdout did not take them (log-destination.ts), counted at scrape time. */
function countDroppedLogLines(droppedLogLines: () => number, registers: Registry[]): void {
  let counted = 0;
  new Counter({
    name: `${METRIC_PREFIX}log_lines_dropped_total`,
    help: 'Log lines dropped because stdout did not take them (a stalled log driver) and the log buffer was full.',
    registers,
    collect() {
      const total = droppedLogLines();
      this.inc(total - counted);
      counted = total;
    },
  });
}

/** Counts the watch streams health-views cut off, by reason; returns the function that stops it. */
function countDroppedWatchers(health: Pick<Health, 'onWatcherDropped'>, registers: Registry[]): () => void {
  const dropped = new Counter({
    name: `${METRIC_PREFIX}health_watchers_dropped_total`,
    help: "Health watch streams the service closed: 'behind' had more waiting than the bound (a client that stopped reading), 'failed' could not be written.",
    labelNames: ['reason'],
    registers,
  });
  for (const reason of DROP_REASONS) dropped.inc({ reason }, 0);
  return health.onWatcherDropped(({ reason }) => dropped.inc({ reason }));
}
