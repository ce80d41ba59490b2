// One check as the registry holds it: its states under every policy that watches it (its own and
// each view override's), what feeds them (a runner and its polling, or a flag), and its report.

import { iso } from './clock.js';
import { createRunner, type Runner } from './runner.js';
import { MAX_TIMER_MS, createPolling, type Polling } from './scheduler.js';
import {
  initialState,
  nextState,
  resolvePolicy,
  type CheckState,
  type Observation,
  type ResolvedPolicy,
} from './state.js';
import type { CheckDefinition, CheckReport, Clock, Flag, FlagCheck, HealthEvent, PolledCheck } from './types.js';
import type { ViewEntry } from './view-entry.js';

/** A check's state under one policy: its own, or a view's overrides. */
export interface Tracker {
  readonly policy: ResolvedPolicy;
  state: CheckState;
}

export interface CheckEntry {
  readonly definition: CheckDefinition;
  readonly name: string;
  readonly publicCause: string;
  readonly critical: boolean;
  readonly own: Tracker;
  /** `own` first, then one per view that overrides the check's policy. */
  readonly trackers: Tracker[];
  /** The views that hold the check: refreshed when it changes. */
  readonly views: ViewEntry[];
  readonly runner?: Runner;
  readonly polling?: Polling;
  readonly flag?: Flag;
}

/** Where an entry's observations go: the store, which updates its trackers and views. */
export type Observe = (entry: CheckEntry, observation: Observation) => void;

export function createCheckEntry(def: CheckDefinition, clock: Clock, observe: Observe): CheckEntry {
  const initial =
    def.kind === 'flag'
      ? initialState(clock.now(), flagValueIsUp(def, def.initial ?? false) ? 'UP' : 'DOWN', 'not set yet')
      : initialState(clock.now());
  const own: Tracker = { policy: resolvePolicy(def), state: initial };
  const record = (observation: Observation): void => observe(entry, observation);
  const entry: CheckEntry = {
    definition: def,
    name: def.name,
    publicCause: def.publicCause ?? `${def.name} is failing`,
    critical: def.critical ?? true,
    own,
    trackers: [own],
    views: [],
    ...(def.kind === 'flag' ? { flag: createFlag(def, own, record) } : createPolled(def, clock, record)),
  };
  return entry;
}

/** A polled check's runner, and the polling that runs it on its interval and notices staleness. */
function createPolled(
  def: PolledCheck,
  clock: Clock,
  record: (observation: Observation) => void,
): { readonly runner: Runner; readonly polling: Polling } {
  const runner = createRunner({
    check: def.run,
    timeoutMs: def.timeoutMs,
    clock,
    onResult: (result) => {
      polling.resultRecorded();
      record({ kind: 'result', ...result });
    },
  });
  // The default may pass a Node timer's limit when the interval is long; a longer timer would fire at once.
  const maxAgeMs = def.maxAgeMs ?? Math.min(3 * def.intervalMs + def.timeoutMs, MAX_TIMER_MS);
  const polling = createPolling({
    clock,
    intervalMs: def.intervalMs,
    maxAgeMs,
    run: () => runner.run(),
    onStale: (ageMs) => record({ kind: 'stale', cause: `stale: no result for ${ageMs} ms (at most ${maxAgeMs} ms)` }),
  });
  return { runner, polling };
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

/**
 * Moves every tracker of the check on by one observation; a change of its own status is a check
 * event. True when any tracker's status changed: its views need a new look.
 */
export function advance(
  entry: CheckEntry,
  observation: Observation,
  now: number,
  emit: (event: HealthEvent) => void,
): boolean {
  let changed = false;
  for (const tracker of entry.trackers) {
    const before = tracker.state;
    tracker.state = nextState(before, observation, tracker.policy, now);
    if (tracker.state.status === before.status) continue;
    changed = true;
    if (tracker !== entry.own) continue;
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
  return changed;
}

/** The check's report under one of its trackers (its own, or a view's), `critical` as that view sees it. */
export function reportOf(entry: CheckEntry, tracker: Tracker, critical: boolean): CheckReport {
  const state = tracker.state;
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
