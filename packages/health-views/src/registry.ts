// Ties the parts together: each check's runner and polling (or flag), its states under each
// policy that watches it (state.ts), the views' statuses with their pre-rendered plain answers,
// and the events (listeners, history ring, watch hub). HTTP answering lives in routes.ts.

import { iso, systemClock } from './clock.js';
import { createDisclosureGate } from './disclosure.js';
import { createEventLog } from './events.js';
import { MAX_TIMER_MS, createPolling, holdProcessOpen, type Polling } from './scheduler.js';
import { createRunner, type Runner } from './runner.js';
import { JSON_TYPE, renderJson, statusCodeOf } from './render.js';
import { createRoutes, type PlainAnswer } from './routes.js';
import {
  aggregate,
  initialState,
  nextState,
  resolvePolicy,
  type CheckState,
  type Observation,
  type ResolvedPolicy,
} from './state.js';
import { validateOptions } from './validate.js';
import { createWatchHub } from './watch.js';
import type {
  CheckDefinition,
  CheckNameOf,
  CheckReport,
  Flag,
  FlagCheck,
  FlagNameOf,
  Health,
  HealthOptions,
  ViewDefinition,
  ViewNameOf,
  ViewReport,
  ViewStatus,
} from './types.js';

/** A check's state under one policy: its own, or a view's overrides. */
interface Tracker {
  readonly policy: ResolvedPolicy;
  state: CheckState;
}

interface CheckEntry {
  readonly name: string;
  readonly publicCause: string;
  readonly critical: boolean;
  readonly own: Tracker;
  readonly trackers: Tracker[];
  readonly views: ViewEntry[];
  runner?: Runner;
  polling?: Polling;
  flag?: Flag;
}

interface Member {
  readonly entry: CheckEntry;
  readonly tracker: Tracker;
  readonly critical: boolean;
}

export interface ViewEntry {
  readonly name: string;
  readonly path: string;
  readonly members: readonly Member[];
  status: ViewStatus;
  since: number;
  plain: PlainAnswer;
}

/**
 * Builds a registry from its options. The `const` type parameters keep inline names as literals, so
 * `flag('drainig')`, `view('nope')` or a view naming an undefined check are type errors; options
 * built as `CheckDefinition[]`/`ViewDefinition[]` give a registry whose names are plain strings.
 */
// eslint-disable-next-line max-lines-per-function -- issue 26: to be split by job
export function createHealth<
  const Checks extends readonly CheckDefinition[],
  const Views extends readonly ViewDefinition<CheckNameOf<Checks>>[],
>(options: HealthOptions<Checks, Views>): Health<CheckNameOf<Checks>, FlagNameOf<Checks>, ViewNameOf<Views>> {
  validateOptions(options);
  const gate = createDisclosureGate(options.disclosure);
  const clock = options.clock ?? systemClock;
  const historySize = options.historySize ?? 100;
  const serviceId = options.serviceId ?? 'service';
  const watchOptions = options.watch === false ? undefined : (options.watch ?? {});
  const hub = watchOptions
    ? createWatchHub({
        clock,
        maxSubscribers: watchOptions.maxSubscribers ?? 10,
        heartbeatMs: watchOptions.heartbeatMs ?? 15_000,
        maxQueuedBytes: watchOptions.maxQueuedBytes ?? 65_536,
      })
    : undefined;
  const events = createEventLog(historySize, hub);
  const emit = (event: Parameters<typeof events.emit>[0]): void => events.emit(event);
  let closed = false;

  const checks = new Map<string, CheckEntry>();
  for (const def of options.checks as readonly CheckDefinition[]) {
    const isFlag = def.kind === 'flag';
    const initial = isFlag
      ? initialState(clock.now(), flagValueIsUp(def, def.initial ?? false) ? 'UP' : 'DOWN', 'not set yet')
      : initialState(clock.now());
    const own: Tracker = { policy: resolvePolicy(def), state: initial };
    const entry: CheckEntry = {
      name: def.name,
      publicCause: def.publicCause ?? `${def.name} is failing`,
      critical: def.critical ?? true,
      own,
      trackers: [own],
      views: [],
    };
    if (isFlag) {
      entry.flag = createFlag(def, own, (observation) => observe(entry, observation));
    } else {
      entry.runner = createRunner({
        check: def.run,
        timeoutMs: def.timeoutMs,
        clock,
        onResult: (result) => {
          entry.polling?.resultRecorded();
          observe(entry, { kind: 'result', ...result });
        },
      });
      // The default may pass a Node timer's limit when the interval is long; a longer timer would fire at once.
      const maxAgeMs = def.maxAgeMs ?? Math.min(3 * def.intervalMs + def.timeoutMs, MAX_TIMER_MS);
      entry.polling = createPolling({
        clock,
        intervalMs: def.intervalMs,
        maxAgeMs,
        run: () => entry.runner!.run(),
        onStale: (ageMs) =>
          observe(entry, { kind: 'stale', cause: `stale: no result for ${ageMs} ms (at most ${maxAgeMs} ms)` }),
      });
    }
    checks.set(def.name, entry);
  }

  const views: ViewEntry[] = (options.views as readonly ViewDefinition[]).map((def) => {
    const members = def.checks.map((member): Member => {
      const entry = checks.get(typeof member === 'string' ? member : member.check)!;
      const overrides = typeof member === 'string' ? undefined : member;
      const hasOverride =
        overrides !== undefined &&
        (overrides.failureThreshold !== undefined ||
          overrides.failureGraceMs !== undefined ||
          overrides.successThreshold !== undefined);
      let tracker = entry.own;
      if (hasOverride) {
        const source = (options.checks as readonly CheckDefinition[]).find((check) => check.name === entry.name)!;
        tracker = { policy: resolvePolicy(source, overrides), state: entry.own.state };
        entry.trackers.push(tracker);
      }
      return { entry, tracker, critical: overrides?.critical ?? entry.critical };
    });
    const view: ViewEntry = {
      name: def.name,
      path: def.path,
      members,
      status: 'DOWN',
      since: clock.now(),
      plain: EMPTY,
    };
    view.status = statusOf(view);
    view.plain = renderPlain(view);
    for (const member of members) if (!member.entry.views.includes(view)) member.entry.views.push(view);
    return view;
  });
  const viewsByName = new Map(views.map((view) => [view.name, view]));

  function statusOf(view: ViewEntry): ViewStatus {
    const statuses = view.members.map((member) => ({ status: member.tracker.state.status, critical: member.critical }));
    return aggregate(statuses);
  }

  function renderPlain(view: ViewEntry): PlainAnswer {
    const body = renderJson({
      name: view.name,
      status: view.status,
      checks: view.members.map(reportOf),
      excluded: [],
      details: false,
      serviceId,
    });
    return {
      kind: 'answer',
      route: view.path,
      statusCode: statusCodeOf(view.status),
      headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', 'content-length': String(body.length) },
      body,
    };
  }

  /** The only place states change: every policy watching the check sees the observation. */
  function observe(entry: CheckEntry, observation: Observation): void {
    if (closed && observation.kind === 'stale') return;
    const now = clock.now();
    let changed = false;
    for (const tracker of entry.trackers) {
      const before = tracker.state;
      tracker.state = nextState(before, observation, tracker.policy, now);
      if (tracker.state.status !== before.status) changed = true;
      if (tracker === entry.own && tracker.state.status !== before.status) {
        emit({
          type: 'check',
          check: entry.name,
          from: before.status,
          to: tracker.state.status,
          ...(tracker.state.status === 'UP' ? {} : { publicCause: entry.publicCause }),
          ...(tracker.state.cause === undefined ? {} : { cause: tracker.state.cause }),
          at: iso(now),
          previousLastedMs: now - before.since,
        });
      }
    }
    if (!changed) return;
    for (const view of entry.views) {
      const from = view.status;
      view.status = statusOf(view);
      view.plain = renderPlain(view);
      if (view.status === from) continue;
      const lasted = now - view.since;
      view.since = now;
      emit({ type: 'view', view: view.name, from, to: view.status, at: iso(now), previousLastedMs: lasted });
    }
  }

  function reportOf(member: Member | CheckEntry): CheckReport {
    const entry = 'entry' in member ? member.entry : member;
    const state = 'entry' in member ? member.tracker.state : member.own.state;
    const critical = 'entry' in member ? member.critical : member.critical;
    return {
      name: entry.name,
      status: state.status,
      critical,
      ...(state.status === 'UP' ? {} : { publicCause: entry.publicCause }),
      ...(state.status === 'UP' || state.cause === undefined ? {} : { cause: state.cause }),
      ...(state.durationMs === undefined ? {} : { durationMs: state.durationMs }),
      ...(state.lastResultAt === undefined ? {} : { lastResultAt: iso(state.lastResultAt) }),
      since: iso(state.since),
    };
  }

  function viewReport(view: ViewEntry, exclude: readonly string[] = []): ViewReport {
    const members = exclude.length === 0 ? view.members : view.members.filter((m) => !exclude.includes(m.entry.name));
    const reports = members.map(reportOf);
    const status = exclude.length === 0 ? view.status : aggregate(reports);
    return { view: view.name, status, checks: reports };
  }

  function checkReport(name: string): CheckReport | undefined {
    const entry = checks.get(name);
    return entry === undefined ? undefined : reportOf(entry);
  }

  let starting: Promise<void> | undefined;

  /** Each polled check once, the process held open meanwhile; then their timers, unless closed. */
  async function firstRuns(): Promise<void> {
    if (closed) return;
    const polled = [...checks.values()].filter((entry) => entry.runner !== undefined);
    const runs = polled.map((entry) => entry.runner!.run()).filter((run) => run !== undefined);
    if (runs.length > 0) {
      // Each run settles by its timeout (or at close()), so the hold never has to outlast the longest.
      const release = holdProcessOpen(longestTimeoutMs(options.checks) + HOLD_SLACK_MS);
      try {
        await Promise.all(runs);
      } finally {
        release();
      }
    }
    if (closed) return; // close() while the first runs were under way: no timer may start after it
    for (const entry of polled) entry.polling!.start();
  }

  const health: Health = {
    start() {
      starting ??= firstRuns();
      return starting;
    },
    close(reason = 'closing') {
      if (closed) return;
      closed = true;
      for (const entry of checks.values()) {
        entry.polling?.stop();
        entry.runner?.stop(`health-views closed: ${reason}`);
      }
      for (const def of options.checks) if (def.kind !== 'flag') closeQuietly(def.close);
      hub?.close({ reason, at: iso(clock.now()) });
    },
    flag(name) {
      const flag = checks.get(name)?.flag;
      if (flag === undefined) {
        const flags = [...checks.values()].filter((entry) => entry.flag).map((entry) => entry.name);
        throw new Error(`health-views: no flag check named "${name}" (flags: ${flags.join(', ') || 'none'})`);
      }
      return flag;
    },
    view(name, query) {
      const view = viewsByName.get(name);
      return view === undefined ? undefined : viewReport(view, query?.exclude);
    },
    check: checkReport,
    checkNames: [...checks.keys()],
    viewNames: views.map((view) => view.name),
    on: (listener) => events.on(listener),
    onWatcherDropped: (listener) => hub?.onDropped(listener) ?? (() => {}),
    history: () => events.history(),
    answer: () => undefined,
    routes: [],
  };
  const routes = createRoutes({
    views,
    viewReport,
    checkReport,
    checkNames: health.checkNames,
    history: () => health.history(),
    gate,
    hub,
    watchPath: watchOptions ? (watchOptions.path ?? '/health/watch') : undefined,
    checksPath: options.checksPath ?? '/health/checks',
    serviceId,
    snapshot: () => ({
      views: Object.fromEntries(views.map((view) => [view.name, view.status])),
      checks: [...checks.values()].map(reportOf),
      at: iso(clock.now()),
    }),
  });
  return { ...health, answer: routes.answer, routes: routes.templates };
}

/** Slack on the process hold, for a clock whose timers run a little late; start() never waits for it. */
const HOLD_SLACK_MS = 1000;

function longestTimeoutMs(checks: readonly CheckDefinition[]): number {
  return Math.max(0, ...checks.map((check) => (check.kind === 'flag' ? 0 : check.timeoutMs)));
}

function flagValueIsUp(def: FlagCheck, value: boolean): boolean {
  return value === (def.healthyWhen ?? true);
}

/**
 * A flag's handle. It is UP while its value equals `healthyWhen`, so a flag named after a bad state
 * (`draining`, healthyWhen false) reads right: `set(true)` turns it DOWN.
 */
function createFlag(def: FlagCheck, own: Tracker, record: (observation: Observation) => void): Flag {
  let value = def.initial ?? false;
  return {
    name: def.name,
    set(next, cause) {
      if (typeof next !== 'boolean') {
        throw new TypeError(`health-views: flag "${def.name}": set() takes true or false (got a ${typeof next})`);
      }
      value = next;
      const up = flagValueIsUp(def, next);
      record({ kind: 'result', ok: up, ...(up ? {} : { cause: cause ?? `set to ${String(next)}` }) });
    },
    get value() {
      return value;
    },
    get up() {
      return own.state.status === 'UP';
    },
  };
}

const EMPTY: PlainAnswer = { kind: 'answer', route: '', statusCode: 503, headers: {}, body: Buffer.alloc(0) };

/** A check's own close hook: a throw there must not stop the others or the watch streams closing. */
function closeQuietly(close: (() => void) | undefined): void {
  try {
    close?.();
  } catch {
    // Nothing to report it to (the package has no logger); close() still stops everything else.
  }
}
