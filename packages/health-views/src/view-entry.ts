// One view as the registry holds it: its checks, each under the view's policy, its overall status,
// and its plain answer, rendered again each time one of its checks changes (never per probe).

import { iso } from './clock.js';
import { reportOf, type CheckEntry, type Tracker } from './check-entry.js';
import { JSON_TYPE, bodyAnswer, renderJson, statusCodeOf } from './render.js';
import { aggregate, resolvePolicy } from './state.js';
import type {
  CheckReport,
  HealthAnswer,
  HealthEvent,
  ViewCheck,
  ViewDefinition,
  ViewReport,
  ViewStatus,
} from './types.js';

/** A check in a view: the tracker of the policy the view applies to it. */
export interface Member {
  readonly entry: CheckEntry;
  readonly tracker: Tracker;
  readonly critical: boolean;
}

export interface ViewEntry {
  readonly name: string;
  readonly path: string;
  readonly members: readonly Member[];
  readonly checkNames: readonly string[];
  status: ViewStatus;
  since: number;
  /** What every plain probe of the view is answered with, as is. */
  plain: HealthAnswer;
}

/** Builds a view over the registry's checks, and makes each of its checks know the view. */
export function createViewEntry(
  def: ViewDefinition,
  checks: ReadonlyMap<string, CheckEntry>,
  now: number,
  serviceId: string,
): ViewEntry {
  const members = def.checks.map((member) =>
    typeof member === 'string' ? memberOf(checks.get(member)!) : memberOf(checks.get(member.check)!, member),
  );
  const shown = { name: def.name, path: def.path, members, status: statusOf(members) };
  const view: ViewEntry = {
    ...shown,
    checkNames: members.map((member) => member.entry.name),
    since: now,
    plain: renderPlain(shown, serviceId),
  };
  // A new view, and no check twice in one (validate.ts): each member's entry gets it once.
  for (const member of members) member.entry.views.push(view);
  return view;
}

/** A check in a view; a policy override gets a tracker of its own, added to the check's. */
function memberOf(entry: CheckEntry, overrides?: ViewCheck): Member {
  const hasOverride =
    overrides !== undefined &&
    (overrides.failureThreshold !== undefined ||
      overrides.failureGraceMs !== undefined ||
      overrides.successThreshold !== undefined);
  let tracker = entry.own;
  if (hasOverride) {
    tracker = { policy: resolvePolicy(entry.definition, overrides), state: entry.own.state };
    entry.trackers.push(tracker);
  }
  return { entry, tracker, critical: overrides?.critical ?? entry.critical };
}

function statusOf(members: readonly Member[]): ViewStatus {
  return aggregate(members.map((member) => ({ status: member.tracker.state.status, critical: member.critical })));
}

/** The view's plain answer (no details, no query): the bytes every plain probe gets until it changes. */
function renderPlain(view: Pick<ViewEntry, 'name' | 'path' | 'members' | 'status'>, serviceId: string): HealthAnswer {
  const body = renderJson({
    name: view.name,
    status: view.status,
    checks: view.members.map(memberReport),
    excluded: [],
    details: false,
    serviceId,
  });
  return bodyAnswer(view.path, statusCodeOf(view.status), JSON_TYPE, body);
}

/** After one of its checks changed: the view's status and plain answer again, and an event if the status moved. */
export function refresh(view: ViewEntry, now: number, serviceId: string, emit: (event: HealthEvent) => void): void {
  const from = view.status;
  view.status = statusOf(view.members);
  view.plain = renderPlain(view, serviceId);
  if (view.status === from) return;
  const lasted = now - view.since;
  view.since = now;
  emit({ type: 'view', view: view.name, from, to: view.status, at: iso(now), previousLastedMs: lasted });
}

/** The view's report now; with names left out, its status is that of the checks that remain. */
export function viewReport(view: ViewEntry, exclude: readonly string[] = []): ViewReport {
  const members = exclude.length === 0 ? view.members : view.members.filter((m) => !exclude.includes(m.entry.name));
  const reports = members.map(memberReport);
  const status = exclude.length === 0 ? view.status : aggregate(reports);
  return { view: view.name, status, checks: reports };
}

function memberReport(member: Member): CheckReport {
  return reportOf(member.entry, member.tracker, member.critical);
}
