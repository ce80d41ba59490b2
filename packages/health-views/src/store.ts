// The registry's state: its checks and views, the one place where an observation (a result, a
// flag set, staleness) changes them, and the polling's start and stop. Answering is not its job:
// registry.ts assembles the Health object and the routes around it.

import { advance, createCheckEntry, reportOf, type CheckEntry } from './check-entry.js';
import { iso } from './clock.js';
import { holdProcessOpen } from './scheduler.js';
import type { Observation } from './state.js';
import type { CheckDefinition, CheckReport, Clock, Flag, HealthEvent, ViewDefinition, ViewStatus } from './types.js';
import { createViewEntry, refresh, viewReport, type ViewEntry } from './view-entry.js';

export interface StoreOptions {
  readonly checks: readonly CheckDefinition[];
  readonly views: readonly ViewDefinition[];
  readonly clock: Clock;
  readonly serviceId: string;
  readonly emit: (event: HealthEvent) => void;
}

/** What a watch stream starts with: every view's status and every check's state now. */
export interface Snapshot {
  readonly views: Readonly<Record<string, ViewStatus>>;
  readonly checks: readonly CheckReport[];
  readonly at: string;
}

export interface HealthStore {
  readonly views: readonly ViewEntry[];
  readonly checkNames: readonly string[];
  readonly viewNames: readonly string[];
  /** The first runs, then the timers; the same promise on every call. */
  readonly start: () => Promise<void>;
  /** Stops the timers and the runs under way, and calls each polled check's `close`. Idempotent. */
  readonly close: (reason: string) => void;
  readonly flag: (name: string) => Flag;
  readonly view: (name: string) => ViewEntry | undefined;
  readonly viewReport: typeof viewReport;
  /** One check under its own policy. */
  readonly checkReport: (name: string) => CheckReport | undefined;
  readonly snapshot: () => Snapshot;
}

export function createStore({
  checks: definitions,
  views: viewDefinitions,
  clock,
  serviceId,
  emit,
}: StoreOptions): HealthStore {
  let closed = false;
  let starting: Promise<void> | undefined;

  /** The only place states change: every policy watching the check sees the observation. */
  const observe = (entry: CheckEntry, observation: Observation): void => {
    const now = clock.now();
    if (!advance(entry, observation, now, emit)) return;
    for (const view of entry.views) refresh(view, now, serviceId, emit);
  };
  const checks = new Map(definitions.map((def) => [def.name, createCheckEntry(def, clock, observe)]));
  const views = viewDefinitions.map((def) => createViewEntry(def, checks, clock.now(), serviceId));
  const viewsByName = new Map(views.map((view) => [view.name, view]));
  const ownReport = (entry: CheckEntry): CheckReport => reportOf(entry, entry.own, entry.critical);

  return {
    views,
    checkNames: [...checks.keys()],
    viewNames: views.map((view) => view.name),
    start() {
      starting ??= firstRuns([...checks.values()], () => closed);
      return starting;
    },
    close(reason) {
      if (closed) return;
      closed = true;
      for (const entry of checks.values()) {
        entry.polling?.stop();
        entry.runner?.stop(`health-views closed: ${reason}`);
      }
      for (const entry of checks.values()) if (entry.definition.kind !== 'flag') closeQuietly(entry.definition.close);
    },
    flag(name) {
      const flag = checks.get(name)?.flag;
      if (flag === undefined) {
        const flags = [...checks.values()].filter((entry) => entry.flag).map((entry) => entry.name);
        throw new Error(`health-views: no flag check named "${name}" (flags: ${flags.join(', ') || 'none'})`);
      }
      return flag;
    },
    view: (name) => viewsByName.get(name),
    viewReport,
    checkReport(name) {
      const entry = checks.get(name);
      return entry === undefined ? undefined : ownReport(entry);
    },
    snapshot: () => ({
      views: Object.fromEntries(views.map((view) => [view.name, view.status])),
      checks: [...checks.values()].map(ownReport),
      at: iso(clock.now()),
    }),
  };
}

/** Each polled check once, the process held open meanwhile; then their timers, unless closed. */
async function firstRuns(entries: readonly CheckEntry[], closed: () => boolean): Promise<void> {
  if (closed()) return;
  const polled = entries.filter((entry) => entry.runner !== undefined);
  const runs = polled.map((entry) => entry.runner!.run()).filter((run) => run !== undefined);
  if (runs.length > 0) {
    // Each run settles by its timeout (or at close()), so the hold never has to outlast the longest.
    const release = holdProcessOpen(longestTimeoutMs(polled) + HOLD_SLACK_MS);
    try {
      await Promise.all(runs);
    } finally {
      release();
    }
  }
  if (closed()) return; // close() while the first runs were under way: no timer may start after it
  for (const entry of polled) entry.polling!.start();
}

/** Slack on the process hold, for a clock whose timers run a little late; start() never waits for it. */
const HOLD_SLACK_MS = 1000;

function longestTimeoutMs(entries: readonly CheckEntry[]): number {
  return Math.max(0, ...entries.map(({ definition }) => (definition.kind === 'flag' ? 0 : definition.timeoutMs)));
}

/** A check's own close hook: a throw there must not stop the others or the watch streams closing. */
function closeQuietly(close: (() => void) | undefined): void {
  try {
    close?.();
  } catch {
    // Nothing to report it to (the package has no logger); close() still stops everything else.
  }
}
