// Flag checks: a boolean value, UP while it equals healthyWhen, so a flag named after a bad state
// (draining, shutdown) reads right: set(true) turns it DOWN.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHealth } from '../src/registry.js';
import type { HealthEvent } from '../src/types.js';

function setup() {
  const health = createHealth({
    checks: [
      { name: 'draining', kind: 'flag', healthyWhen: false, publicCause: 'draining' },
      { name: 'started', kind: 'flag' },
      { name: 'restarting', kind: 'flag', healthyWhen: false, initial: true },
    ],
    views: [
      { name: 'ready', path: '/ready', checks: ['draining'] },
      { name: 'started', path: '/started', checks: ['started'] },
    ],
  });
  const events: HealthEvent[] = [];
  health.on((event) => events.push(event));
  return { health, events };
}

const summary = (event: HealthEvent): string =>
  event.type === 'check'
    ? `check ${event.check} ${event.from}->${event.to} ${event.cause ?? ''}`.trim()
    : `view ${event.view} ${event.from}->${event.to}`;

describe('flags', () => {
  it('a flag healthy when false starts UP, and set(true, cause) turns it DOWN with that cause', () => {
    const { health, events } = setup();
    const draining = health.flag('draining');
    assert.deepEqual([draining.value, draining.up, health.view('ready')!.status], [false, true, 'UP']);
    draining.set(true, 'SIGTERM');
    assert.deepEqual(events.map(summary), ['check draining UP->DOWN SIGTERM', 'view ready UP->DOWN']);
    assert.deepEqual([draining.value, draining.up], [true, false]);
    draining.set(false);
    assert.deepEqual([draining.value, draining.up, health.view('ready')!.status], [false, true, 'UP']);
  });

  it('a flag is healthy when true by default: it starts DOWN, "not set yet", and set(true) is UP', () => {
    const { health, events } = setup();
    const started = health.flag('started');
    assert.deepEqual([started.value, started.up], [false, false]);
    assert.equal(health.check('started')!.cause, 'not set yet');
    started.set(true);
    assert.deepEqual(events.map(summary), ['check started DOWN->UP', 'view started DOWN->UP']);
  });

  it('initial is the starting value: healthy when false, starting true, it is DOWN until set false', () => {
    const { health } = setup();
    const restarting = health.flag('restarting');
    assert.deepEqual([restarting.value, restarting.up], [true, false]);
    assert.equal(health.check('restarting')!.cause, 'not set yet');
    restarting.set(false);
    assert.equal(restarting.up, true);
  });

  it('a value set without a cause is DOWN with the value as its cause', () => {
    const { health } = setup();
    health.flag('draining').set(true);
    assert.equal(health.check('draining')!.cause, 'set to true');
    health.flag('started').set(false);
    assert.equal(health.check('started')!.cause, 'set to false');
  });
});
