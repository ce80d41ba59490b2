// The healing phases the demo and the e2e test print, from the engine's timestamps.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { healingPhases, stopSignalAt, stopSignalEventsArgs, type Inspected } from '../../scripts/healing-phases.js';

const OFF = Date.parse('2026-11-29T18:49:57.300Z');
const at = (seconds: number): string => new Date(OFF + seconds * 1000).toISOString();
const probe = (start: number, end: number, exitCode: number) => ({
  Start: at(start),
  End: at(end),
  ExitCode: exitCode,
});

const old: Inspected = {
  Created: at(-20),
  State: {
    FinishedAt: at(11.3),
    // A passing probe before the switch-off, then three failures: the third made it unhealthy.
    Health: { Log: [probe(-0.2, -0.1, 0), probe(3.0, 3.1, 1), probe(6.1, 6.2, 1), probe(9.2, 9.3, 1)] },
  },
};
const replacement: Inspected = {
  Created: at(11.5),
  State: { FinishedAt: '0001-01-01T00:00:00Z', Health: { Log: [probe(14.6, 14.7, 0)] } },
};

test('the phases in order, the stop signal between unhealthy and gone when it is known', () => {
  const phases = healingPhases(OFF, old, replacement, 3, OFF + 11_250);
  assert.deepEqual(phases, [
    { phase: 'switched off', at: 0 },
    { phase: 'unhealthy', at: 9.3 },
    { phase: 'stop signal sent by the engine', at: 11.25 },
    { phase: 'old container gone', at: 11.3 },
    { phase: 'new container created', at: 11.5 },
    { phase: 'new container healthy', at: 14.7 },
  ]);
  assert.equal(
    healingPhases(OFF, old, replacement, 3).some(({ phase }) => phase.startsWith('stop signal')),
    false,
  );
});

test('unhealthy is NaN when fewer probes than the retries failed', () => {
  const [, unhealthy] = healingPhases(OFF, old, replacement, 4);
  assert.ok(Number.isNaN(unhealthy!.at));
});

test('stopSignalAt takes the first SIGTERM in the window from docker events lines', () => {
  const ns = (ms: number) => `${BigInt(ms) * 1_000_000n + 123n}`;
  const lines = [`${ns(OFF - 5000)} 15`, `${ns(OFF + 12_000)} 9`, `${ns(OFF + 11_250)} 15`, 'garbage', ''].join('\n');
  assert.equal(stopSignalAt(lines, OFF), OFF + 11_250);
  assert.equal(stopSignalAt(`${ns(OFF + 1)} 9\n`, OFF), undefined);
  assert.equal(stopSignalAt('', OFF), undefined);
});

test('stopSignalEventsArgs asks for a closed window, so docker events returns', () => {
  const args = stopSignalEventsArgs('abc', 1_000_500, 1_002_000);
  assert.deepEqual(args.slice(0, 5), ['events', '--since', '1000.500', '--until', '1002.000']);
  assert.ok(args.includes('container=abc') && args.includes('event=kill'));
});
