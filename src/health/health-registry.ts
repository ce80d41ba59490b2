// The health core: checks as values, their states, and the overall status of each view.
// It knows nothing of HTTP; routes.ts maps what it reports to responses.

import { systemClock, type Clock, type TimerHandle } from './clock.js';

export type CheckStatus = 'UP' | 'DOWN' | 'UNKNOWN';
/** WARN: every critical check is UP but a non-critical one is not. */
export type OverallStatus = 'UP' | 'WARN' | 'DOWN';

/** Which probe a check answers for: /health, /health/live, /health/ready, /health/started. */
export type HealthView = 'health' | 'live' | 'ready' | 'started';

/** How a check's result is kept fresh. */
export type Refresh =
  /** Runs on a timer; requests read the last result and never run the check themselves. */
  | { readonly mode: 'background'; readonly intervalMs: number }
  /** Runs when asked, at most once per cacheMs; concurrent askers share one run. */
  | { readonly mode: 'on-demand'; readonly cacheMs: number };

export interface CheckDefinition {
  readonly name: string;
  /**
   * Resolves when healthy; throws (or rejects) with the cause when not. The signal aborts when the
   * run times out; a run that declares no parameter is passed a shared signal that never aborts.
   */
  readonly run: (signal: AbortSignal) => unknown;
  readonly timeoutMs: number;
  readonly refresh: Refresh;
  /** A failing critical check fails the view; a failing non-critical one only warns. Default true. */
  readonly critical?: boolean;
  readonly views: readonly HealthView[];
  /** Consecutive failures before an UP check turns DOWN. Default 1. */
  readonly failureThreshold?: number;
  /** Or: time in error after which an UP check turns DOWN whatever the count. Default: off. */
  readonly failureGraceMs?: number;
  /** Consecutive successes before a DOWN check turns UP again. Default 1. */
  readonly successThreshold?: number;
  /**
   * A result older than this counts as UNKNOWN. Default for background checks:
   * three intervals plus the timeout, so a stopped timer is noticed; on-demand checks: none.
   */
  readonly maxAgeMs?: number;
}

export interface CheckState {
  readonly name: string;
  readonly status: CheckStatus;
  readonly critical: boolean;
  /** Why the check is not UP (absent when UP). */
  readonly cause?: string;
  /** Duration of the last run in ms (absent before the first). */
  readonly durationMs?: number;
  readonly lastRunAt?: number;
  /** When the status last changed (the registry's creation for UNKNOWN). */
  readonly since: number;
}

export interface Transition {
  readonly check: string;
  readonly from: CheckStatus;
  readonly to: CheckStatus;
  readonly cause?: string;
  readonly at: number;
  /** How long the previous status lasted, in ms. */
  readonly previousLastedMs: number;
}

export interface ViewReport {
  readonly view: HealthView;
  readonly status: OverallStatus;
  /** The checks of the view, in registration order. */
  readonly checks: readonly CheckState[];
}

export interface EvaluateOptions {
  /** Check names to leave out of this one evaluation. */
  readonly exclude?: readonly string[];
}

export interface HealthRegistry {
  /** Runs every background check once, then keeps them on their timers. */
  start(): Promise<void>;
  /** Stops the timers; evaluations still answer from the last results. */
  stop(): void;
  evaluate(view: HealthView, options?: EvaluateOptions): Promise<ViewReport>;
  /** One check alone, freshened as a view evaluation would; undefined when no such check. */
  evaluateCheck(name: string): Promise<CheckState | undefined>;
  checkNames(): readonly string[];
  /** Subscribes to status changes; returns the unsubscribe function. */
  onTransition(listener: (transition: Transition) => void): () => void;
  /** The most recent transitions, oldest first (a bounded history). */
  history(): readonly Transition[];
  /** Every check's last known state, in registration order: runs nothing and ages nothing (for metrics scrapes). */
  states(): readonly CheckState[];
}

export interface RegistryOptions {
  readonly clock?: Clock;
  /** How many transitions history() keeps. Default 100. */
  readonly historySize?: number;
  /** Bounds a whole evaluation, whatever the checks' own timeouts. Default: the largest timeout. */
  readonly deadlineMs?: number;
}

interface Result {
  readonly ok: boolean;
  readonly cause?: string;
  readonly durationMs: number;
  readonly at: number;
}

interface MutableState {
  status: CheckStatus;
  cause: string | undefined;
  since: number;
  last: Result | undefined;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  failingSince: number | undefined;
  /** The run under way, shared by everyone who asks meanwhile. */
  running: Promise<void> | undefined;
  /** A run that timed out but has not settled: no new run starts until it does. */
  stuckSince: number | undefined;
  timer: TimerHandle | undefined;
}

interface Entry {
  readonly def: Required<Omit<CheckDefinition, 'maxAgeMs' | 'failureGraceMs'>> &
    Pick<CheckDefinition, 'maxAgeMs' | 'failureGraceMs'>;
  readonly state: MutableState;
}

/** What a check that declares no signal parameter is passed: it never reads it, so it is never aborted. */
const NEVER_ABORTED: AbortSignal = new AbortController().signal;

export function createHealthRegistry(
  definitions: readonly CheckDefinition[],
  options: RegistryOptions = {},
): HealthRegistry {
  const clock = options.clock ?? systemClock;
  const historySize = options.historySize ?? 100;
  const entries = new Map<string, Entry>();
  const listeners = new Set<(transition: Transition) => void>();
  const recent: Transition[] = [];
  let started = false;
  let stopped = false;

  for (const definition of definitions) {
    validateDefinition(definition);
    if (entries.has(definition.name)) throw new Error(`health check "${definition.name}" is registered twice`);
    entries.set(definition.name, {
      def: {
        critical: true,
        failureThreshold: 1,
        successThreshold: 1,
        ...definition,
        maxAgeMs:
          definition.maxAgeMs ??
          (definition.refresh.mode === 'background'
            ? 3 * definition.refresh.intervalMs + definition.timeoutMs
            : undefined),
      },
      state: {
        status: 'UNKNOWN',
        cause: 'not checked yet',
        since: clock.now(),
        last: undefined,
        consecutiveFailures: 0,
        consecutiveSuccesses: 0,
        failingSince: undefined,
        running: undefined,
        stuckSince: undefined,
        timer: undefined,
      },
    });
  }
  const deadlineMs =
    options.deadlineMs ?? Math.max(1, ...[...entries.values()].map((entry) => entry.def.timeoutMs));
  // Checks never change after creation: each view's list is made once, not on every probe.
  const byView = new Map<HealthView, readonly Entry[]>();
  for (const view of ['health', 'live', 'ready', 'started'] as const) {
    byView.set(view, [...entries.values()].filter((entry) => entry.def.views.includes(view)));
  }

  function transition(entry: Entry, to: CheckStatus, cause: string | undefined): void {
    const { state } = entry;
    const at = clock.now();
    const change: Transition = {
      check: entry.def.name,
      from: state.status,
      to,
      ...(cause === undefined ? {} : { cause }),
      at,
      previousLastedMs: at - state.since,
    };
    state.status = to;
    state.cause = cause;
    state.since = at;
    recent.push(change);
    if (recent.length > historySize) recent.splice(0, recent.length - historySize);
    for (const listener of listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure must not change what the registry reports.
      }
    }
  }

  /** Applies one result with the damping rules: the only place a status changes on a result. */
  function record(entry: Entry, result: Result): void {
    const { state, def } = entry;
    state.last = result;
    if (result.ok) {
      state.consecutiveSuccesses++;
      state.consecutiveFailures = 0;
      state.failingSince = undefined;
      const enough = state.status !== 'DOWN' || state.consecutiveSuccesses >= def.successThreshold;
      if (state.status !== 'UP' && enough) transition(entry, 'UP', undefined);
      return;
    }
    state.consecutiveFailures++;
    state.consecutiveSuccesses = 0;
    state.failingSince ??= result.at;
    if (state.status === 'DOWN') {
      state.cause = result.cause; // still DOWN: keep the newest cause, no transition
      return;
    }
    const countReached = state.consecutiveFailures >= def.failureThreshold;
    const graceReached =
      def.failureGraceMs !== undefined && result.at - state.failingSince >= def.failureGraceMs;
    // An UNKNOWN check has no good state to protect: its first failure counts at once.
    if (state.status === 'UNKNOWN' || countReached || graceReached) transition(entry, 'DOWN', result.cause);
  }

  /**
   * Runs the check once, bounded by its timeout; never rejects. A check that answers synchronously
   * (the flag checks) is recorded at once and returns undefined: no promise, no timer, for a
   * function a timer could not interrupt anyway. Only a check that returns a promise is raced.
   */
  function runOnce(entry: Entry): Promise<void> | undefined {
    const { state, def } = entry;
    if (state.running) return state.running;
    if (state.stuckSince !== undefined) {
      // The previous run is still hanging: starting another would pile up work on a sick dependency.
      record(entry, {
        ok: false,
        cause: `timed out after ${def.timeoutMs} ms (the run started ${clock.now() - state.stuckSince} ms ago has not returned)`,
        durationMs: 0,
        at: clock.now(),
      });
      return undefined;
    }
    const startedAt = clock.now();
    const done = (ok: boolean, cause?: string): void => {
      const at = clock.now();
      record(entry, { ok, ...(cause === undefined ? {} : { cause }), durationMs: at - startedAt, at });
    };
    // A controller only for a check that takes the signal: on Node 20 making one costs ~10 µs, more
    // than the rest of what the registry does for a /health request, and flag checks take none.
    const controller = def.run.length > 0 ? new AbortController() : undefined;
    let outcome: unknown;
    try {
      outcome = def.run(controller?.signal ?? NEVER_ABORTED);
    } catch (error) {
      done(false, causeOf(error));
      return undefined;
    }
    if (!isThenable(outcome)) {
      done(true);
      return undefined;
    }
    const pending = outcome;
    const run = new Promise<void>((resolve) => {
      let settled = false;
      const finish = (ok: boolean, cause?: string): void => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        done(ok, cause);
        resolve();
      };
      const timer = clock.setTimeout(() => {
        state.stuckSince = startedAt;
        controller?.abort();
        finish(false, `timed out after ${def.timeoutMs} ms`);
      }, def.timeoutMs);
      Promise.resolve(pending)
        .then(
          () => finish(true),
          (error: unknown) => finish(false, causeOf(error)),
        )
        .finally(() => {
          if (state.stuckSince === startedAt) state.stuckSince = undefined;
        });
    }).finally(() => {
      state.running = undefined;
    });
    state.running = run;
    return run;
  }

  function schedule(entry: Entry): void {
    if (entry.def.refresh.mode !== 'background' || stopped) return;
    const { intervalMs } = entry.def.refresh;
    entry.state.timer = clock.setTimeout(() => {
      entry.state.timer = undefined;
      const run = runOnce(entry);
      if (run) void run.then(() => schedule(entry));
      else schedule(entry);
    }, intervalMs);
  }

  /**
   * Makes the entry's state current: runs an on-demand check if its cache expired, ages stale
   * results. Undefined when that was done synchronously, which is the common case.
   */
  function freshen(entry: Entry): Promise<void> | undefined {
    const { def, state } = entry;
    let run: Promise<void> | undefined;
    if (def.refresh.mode === 'on-demand') {
      const age = state.last === undefined ? Infinity : clock.now() - state.last.at;
      if (age >= def.refresh.cacheMs || state.running) run = runOnce(entry);
    }
    if (run) return run.then(() => markStale(entry));
    markStale(entry);
    return undefined;
  }

  function markStale(entry: Entry): void {
    const { def, state } = entry;
    if (def.maxAgeMs === undefined || state.last === undefined || state.status === 'UNKNOWN') return;
    const age = clock.now() - state.last.at;
    if (age > def.maxAgeMs) {
      // A stale result is no evidence: a stopped background loop must not serve UP forever.
      transition(entry, 'UNKNOWN', `stale: the last result is ${age} ms old (at most ${def.maxAgeMs} ms)`);
      state.consecutiveFailures = 0;
      state.consecutiveSuccesses = 0;
    }
  }

  function snapshot(entry: Entry): CheckState {
    const { def, state } = entry;
    return {
      name: def.name,
      status: state.status,
      critical: def.critical,
      ...(state.status !== 'UP' && state.cause !== undefined ? { cause: state.cause } : {}),
      ...(state.last ? { durationMs: state.last.durationMs, lastRunAt: state.last.at } : {}),
      since: state.since,
    };
  }

  /**
   * Waits for the freshenings still running, but never past the deadline: the report then shows
   * what is known. Nothing to wait for (answers from cache and flag checks): no timer at all.
   */
  async function withinDeadline(runs: ReadonlyArray<Promise<void> | undefined>): Promise<void> {
    const pending = runs.filter((run): run is Promise<void> => run !== undefined);
    if (pending.length === 0) return;
    const work = Promise.all(pending);
    let timer: TimerHandle | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = clock.setTimeout(resolve, deadlineMs);
    });
    try {
      await Promise.race([work, deadline]);
    } finally {
      clock.clearTimeout(timer);
    }
  }

  return {
    async start() {
      if (started) return;
      started = true;
      // Every check runs once, so the first probe finds results, not UNKNOWN.
      await Promise.all([...entries.values()].map((entry) => runOnce(entry)));
      for (const entry of entries.values()) schedule(entry);
    },

    stop() {
      stopped = true;
      for (const entry of entries.values()) {
        if (entry.state.timer !== undefined) clock.clearTimeout(entry.state.timer);
        entry.state.timer = undefined;
      }
    },

    async evaluate(view, options = {}) {
      const inView = byView.get(view) ?? [];
      const { exclude } = options;
      const selected =
        exclude === undefined || exclude.length === 0 ? inView : inView.filter((entry) => !exclude.includes(entry.def.name));
      // All checks of the view freshen in parallel; one deadline bounds the answer.
      await withinDeadline(selected.map(freshen));
      const checks = selected.map(snapshot);
      return { view, status: aggregate(checks), checks };
    },

    async evaluateCheck(name) {
      const entry = entries.get(name);
      if (entry === undefined) return undefined;
      await withinDeadline([freshen(entry)]);
      return snapshot(entry);
    },

    checkNames: () => [...entries.keys()],

    onTransition(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    history: () => [...recent],

    states: () => [...entries.values()].map(snapshot),
  };
}

/** The aggregation rule, in one place: any critical check not UP is DOWN; any other not UP warns. */
export function aggregate(checks: readonly Pick<CheckState, 'status' | 'critical'>[]): OverallStatus {
  let overall: OverallStatus = 'UP';
  for (const check of checks) {
    if (check.status === 'UP') continue;
    if (check.critical) return 'DOWN';
    overall = 'WARN';
  }
  return overall;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function causeOf(error: unknown): string {
  if (error instanceof Error && error.message !== '') return error.message;
  if (typeof error === 'string' && error !== '') return error;
  return 'failed without a message';
}

function validateDefinition(def: CheckDefinition): void {
  const positive = (value: number | undefined, what: string, min = 1): void => {
    if (value !== undefined && (!Number.isFinite(value) || value < min)) {
      throw new Error(`health check "${def.name}": ${what} must be a number >= ${min} (got ${value})`);
    }
  };
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(def.name)) {
    throw new Error(`health check name "${def.name}" must be letters, digits, - or _`);
  }
  positive(def.timeoutMs, 'timeoutMs');
  positive(def.failureThreshold, 'failureThreshold');
  positive(def.successThreshold, 'successThreshold');
  positive(def.failureGraceMs, 'failureGraceMs', 0);
  positive(def.maxAgeMs, 'maxAgeMs');
  if (def.refresh.mode === 'background') positive(def.refresh.intervalMs, 'refresh.intervalMs');
  else positive(def.refresh.cacheMs, 'refresh.cacheMs', 0);
  if (def.views.length === 0) throw new Error(`health check "${def.name}" belongs to no view`);
}
