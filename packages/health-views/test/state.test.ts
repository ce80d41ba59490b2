// One small test per damping rule: the rules are pure, so no clock and no timers.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aggregate, initialState, nextState, resolvePolicy, type CheckState, type Observation } from '../src/state.js';

const T0 = 1_000_000;
const ok: Observation = { kind: 'result', ok: true };
const fail: Observation = { kind: 'result', ok: false, cause: 'boom' };

type Steps = ReadonlyArray<readonly [Observation, number]>;

function feed(state: CheckState, steps: Steps, policy = resolvePolicy({})): CheckState {
  return steps.reduce((current, [observation, at]) => nextState(current, observation, policy, at), state);
}

function up(at = T0): CheckState {
  return nextState(initialState(at), ok, resolvePolicy({}), at);
}

describe('state rules', () => {
  it('UNKNOWN turns UP at the first success', () => {
    assert.equal(up().status, 'UP');
  });

  it('UNKNOWN turns DOWN at the first failure, whatever the threshold: nothing good to protect', () => {
    const state = nextState(initialState(T0), fail, resolvePolicy({ failureThreshold: 5 }), T0);
    assert.equal(state.status, 'DOWN');
    assert.equal(state.cause, 'boom');
  });

  it('UP turns DOWN only when failureThreshold consecutive failures are reached', () => {
    const policy = resolvePolicy({ failureThreshold: 3 });
    const two = feed(
      up(),
      [
        [fail, T0 + 1],
        [fail, T0 + 2],
      ],
      policy,
    );
    assert.equal(two.status, 'UP');
    assert.equal(nextState(two, fail, policy, T0 + 3).status, 'DOWN');
  });

  it('a success between failures restarts the count', () => {
    const policy = resolvePolicy({ failureThreshold: 2 });
    const state = feed(
      up(),
      [
        [fail, T0 + 1],
        [ok, T0 + 2],
        [fail, T0 + 3],
      ],
      policy,
    );
    assert.equal(state.status, 'UP');
  });

  it('with a grace time alone, UP turns DOWN only after failing for that long', () => {
    const policy = resolvePolicy({ failureGraceMs: 30_000 });
    const early = feed(
      up(),
      [
        [fail, T0 + 1000],
        [fail, T0 + 20_000],
        [fail, T0 + 30_999],
      ],
      policy,
    );
    assert.equal(early.status, 'UP');
    assert.equal(nextState(early, fail, policy, T0 + 31_000).status, 'DOWN');
  });

  it('DOWN turns UP only after successThreshold consecutive successes', () => {
    const policy = resolvePolicy({ successThreshold: 2 });
    const down = nextState(up(), fail, policy, T0 + 1);
    const once = nextState(down, ok, policy, T0 + 2);
    assert.equal(once.status, 'DOWN');
    assert.equal(nextState(once, ok, policy, T0 + 3).status, 'UP');
  });

  it('a stale observation turns UP into UNKNOWN with its cause, and restarts the counts', () => {
    const state = nextState(up(), { kind: 'stale', cause: 'stale: no result' }, resolvePolicy({}), T0 + 5000);
    assert.equal(state.status, 'UNKNOWN');
    assert.equal(state.cause, 'stale: no result');
    assert.equal(state.since, T0 + 5000);
    assert.equal(state.consecutiveSuccesses, 0);
  });

  it('a view override replaces the check policy field by field', () => {
    const policy = resolvePolicy({ failureThreshold: 3, successThreshold: 2 }, { failureThreshold: 1 });
    assert.deepEqual(policy, { failureThreshold: 1, failureGraceMs: undefined, successThreshold: 2 });
  });

  it('since moves only when the status changes', () => {
    const state = feed(up(), [
      [ok, T0 + 10],
      [ok, T0 + 20],
    ]);
    assert.equal(state.since, T0);
    assert.equal(state.lastResultAt, T0 + 20);
  });
});

describe('aggregate', () => {
  it('is UP when every check is UP, and when there are none', () => {
    assert.equal(aggregate([]), 'UP');
    assert.equal(
      aggregate([
        { status: 'UP', critical: true },
        { status: 'UP', critical: false },
      ]),
      'UP',
    );
  });
  it('is DOWN when a critical check is DOWN or UNKNOWN: no evidence is not health', () => {
    assert.equal(
      aggregate([
        { status: 'UP', critical: true },
        { status: 'DOWN', critical: true },
      ]),
      'DOWN',
    );
    assert.equal(aggregate([{ status: 'UNKNOWN', critical: true }]), 'DOWN');
  });
  it('only warns when a non-critical check fails, and a critical failure wins over a warning', () => {
    assert.equal(
      aggregate([
        { status: 'UP', critical: true },
        { status: 'DOWN', critical: false },
      ]),
      'WARN',
    );
    assert.equal(
      aggregate([
        { status: 'DOWN', critical: false },
        { status: 'DOWN', critical: true },
      ]),
      'DOWN',
    );
  });
});
