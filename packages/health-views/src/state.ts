// The damping rules, pure: next state = f(state, result, policy, now). Nothing here keeps time or
// state of its own, so each rule has a small test (test/state.test.ts).

import type { CheckPolicy, CheckStatus, ViewStatus } from './types.js';

export interface CheckState {
  readonly status: CheckStatus;
  /** Why it is not UP, in detail (exception text, timeout, staleness); absent when UP. */
  readonly cause?: string;
  /** When the status last changed. */
  readonly since: number;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  /** Start of the current run of failures. */
  readonly failingSince?: number;
  readonly lastResultAt?: number;
  readonly durationMs?: number;
}

/** One observation: a check's result, or the news that the last one is too old to trust. */
export type Observation =
  | { readonly kind: 'result'; readonly ok: boolean; readonly cause?: string; readonly durationMs?: number }
  | { readonly kind: 'stale'; readonly cause: string };

export interface ResolvedPolicy {
  readonly failureThreshold: number;
  readonly failureGraceMs: number | undefined;
  readonly successThreshold: number;
}

/**
 * Merges a view's overrides over the check's own policy. A grace time without a count means time
 * alone decides (the count would otherwise reach its default of 1 at the first failure).
 */
export function resolvePolicy(own: CheckPolicy, override: CheckPolicy = {}): ResolvedPolicy {
  const failureGraceMs = override.failureGraceMs ?? own.failureGraceMs;
  const count = override.failureThreshold ?? own.failureThreshold;
  return {
    failureThreshold: count ?? (failureGraceMs === undefined ? 1 : Number.POSITIVE_INFINITY),
    failureGraceMs,
    successThreshold: override.successThreshold ?? own.successThreshold ?? 1,
  };
}

export function initialState(now: number, status: CheckStatus = 'UNKNOWN', cause = 'not checked yet'): CheckState {
  return { status, ...(status === 'UP' ? {} : { cause }), since: now, consecutiveFailures: 0, consecutiveSuccesses: 0 };
}

export function nextState(
  state: CheckState,
  observation: Observation,
  policy: ResolvedPolicy,
  now: number,
): CheckState {
  if (observation.kind === 'stale') {
    // A stale result is no evidence: a stopped timer must not serve UP forever. Counts restart.
    if (state.status === 'UNKNOWN') return state;
    return { ...withStatus(state, 'UNKNOWN', observation.cause, now), consecutiveFailures: 0, consecutiveSuccesses: 0 };
  }
  const measured = {
    lastResultAt: now,
    ...(observation.durationMs === undefined ? {} : { durationMs: observation.durationMs }),
  };
  if (observation.ok) {
    const successes = state.consecutiveSuccesses + 1;
    const counted: CheckState = {
      ...state,
      ...measured,
      consecutiveSuccesses: successes,
      consecutiveFailures: 0,
      failingSince: undefined,
    };
    // Only a DOWN check must prove itself: UNKNOWN has no bad state to protect against flapping.
    const recovered = state.status === 'UNKNOWN' || (state.status === 'DOWN' && successes >= policy.successThreshold);
    return recovered ? withStatus(counted, 'UP', undefined, now) : counted;
  }
  const failingSince = state.failingSince ?? now;
  const failures = state.consecutiveFailures + 1;
  const cause = observation.cause ?? 'failed';
  const counted: CheckState = {
    ...state,
    ...measured,
    consecutiveFailures: failures,
    consecutiveSuccesses: 0,
    failingSince,
  };
  if (state.status === 'DOWN') return { ...counted, cause }; // still DOWN: the newest cause, no change
  const countReached = failures >= policy.failureThreshold;
  const graceReached = policy.failureGraceMs !== undefined && now - failingSince >= policy.failureGraceMs;
  // UNKNOWN has no good state to protect either: its first failure counts at once.
  if (state.status === 'UNKNOWN' || countReached || graceReached) return withStatus(counted, 'DOWN', cause, now);
  return counted;
}

function withStatus(state: CheckState, status: CheckStatus, cause: string | undefined, now: number): CheckState {
  const { cause: _previous, ...rest } = state;
  return { ...rest, status, ...(cause === undefined ? {} : { cause }), since: now };
}

/** A view's overall status: any critical check not UP is DOWN; any other check not UP warns. */
export function aggregate(checks: readonly { readonly status: CheckStatus; readonly critical: boolean }[]): ViewStatus {
  let overall: ViewStatus = 'UP';
  for (const check of checks) {
    if (check.status === 'UP') continue;
    if (check.critical) return 'DOWN';
    overall = 'WARN';
  }
  return overall;
}
