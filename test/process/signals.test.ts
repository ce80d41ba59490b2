// Every signal the service can get, sent for real to the built service. During start-up it runs as
// PID 1 in a PID namespace of its own (unshare), as in the image: there a signal with no handler
// is dropped, not fatal, so a handler installed too late shows up as a start that goes on serving.
//
// Each phase is recognised by the log line the service writes as it begins it ("start-up: seeding",
// ...). Seeding is long enough with many accounts; the other phases last a millisecond, so those
// tests run the test build (TEST_MAIN: the same service and launcher, pausing in each phase; see
// test/support/). A stop during start-up must close what the start opened: the lease beside the
// database is gone once the process has exited.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PID1, innerPid, itAsPid1 } from '../helpers/pid1.js';
import {
  MAIN,
  TEST_MAIN,
  assertBuilt,
  startService,
  startServiceRaw,
  type ServiceProcess,
} from '../helpers/service-process.js';
import { STOP_SIGNALS } from '../../src/process/stop-signals.js';
import { waitFor } from '../helpers/wait.js';

type Raw = ReturnType<typeof startServiceRaw>;
const running: { cleanup(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
});

function logged(service: Raw | ServiceProcess, pattern: RegExp): Record<string, unknown> | undefined {
  return service.logs.find((line) => pattern.test(String(line.msg ?? '')));
}

function messages(service: Raw | ServiceProcess): string {
  return service.logs.map((line) => String(line.msg ?? line.raw)).join('\n');
}

async function exitWithin(service: Raw | ServiceProcess, timeoutMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${timeoutMs} ms:\n${messages(service)}`)), timeoutMs);
  });
  try {
    return await Promise.race([service.exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The test build, pausing in the phase (the launcher's, "launching", included), 3 s unless told. */
const pausedIn = (phase: string, ms = 3000) => ({ main: TEST_MAIN, args: [`--pause-in=${phase}`, `--pause-ms=${ms}`] });

/** Starts the service as PID 1, waits for the log line of a phase, sends the signal there. */
async function signalInPhase(
  signal: NodeJS.Signals,
  phase: string,
  options: { env?: Record<string, string>; main?: string; args?: readonly string[] },
): Promise<{ service: Raw; code: number | string; ms: number }> {
  const service = startServiceRaw({ prefix: PID1, ...options });
  running.push(service);
  const pid = await innerPid(service.pid);
  const entered = new RegExp(`^start-up: ${phase}$`);
  await waitFor(() => logged(service, entered), { timeoutMs: 30_000, what: `the start-up phase "${phase}"` });
  const sent = performance.now();
  process.kill(pid, signal);
  const code = await exitWithin(service, 20_000);
  return { service, code, ms: Math.round(performance.now() - sent) };
}

function assertStoppedDuringStart(service: Raw, code: number | string, signal: NodeJS.Signals): void {
  const all = messages(service);
  assert.equal(code, 0, `exit code, with log:\n${all}\n${service.stderr()}`);
  const stopped = logged(service, /^stopped during start-up/);
  assert.ok(stopped, `one line says it stopped during start-up:\n${all}`);
  assert.equal(stopped.signal, signal);
  assert.match(String(stopped.msg), /the database is closed/);
  assert.equal(logged(service, /^Starting HTTP service/), undefined, 'no listener was opened');
  assert.equal(service.logs.filter((line) => /^stopped during start-up/.test(String(line.msg))).length, 1);
  const lease = join(service.dataDir, 'accounts.mdb.lease');
  assert.equal(existsSync(lease), false, `the store was closed and its lease released, but ${lease} is still there`);
}

// Each PID-1 test (itAsPid1) fails in CI when the service cannot run as PID 1 here, and elsewhere is
// skipped, with the reason: the runner reports the file as "skipped N", not as passed.
describe('a stop signal during start-up, as PID 1', () => {
  itAsPid1('SIGTERM while seeding stops the start: no listener, database closed, exit 0', async (t) => {
    const { service, code, ms } = await signalInPhase('SIGTERM', 'seeding', { env: { SEED_ACCOUNTS: '300000' } });
    t.diagnostic(`exit ${code} ${ms} ms after SIGTERM (300000 accounts; seeding stops at its next phase boundary)`);
    assertStoppedDuringStart(service, code, 'SIGTERM');
    assert.equal(logged(service, /^start-up: listening$/), undefined, 'no later phase was entered');
  });

  // Each signal the service stops on: the launcher must hold every one of them until the service's
  // own handlers are in (as PID 1 one it does not hold is dropped, and the start goes on serving).
  for (const signal of STOP_SIGNALS) {
    itAsPid1(
      `${signal} while the launcher loads the bundle (before any code of the service runs) stops the start`,
      async (t) => {
        const { service, code, ms } = await signalInPhase(signal, 'launching', pausedIn('launching', 1000));
        t.diagnostic(`exit ${code} ${ms} ms after ${signal}`);
        assertStoppedDuringStart(service, code, signal);
        assert.equal(logged(service, /^start-up: seeding$/), undefined, 'no later phase was entered');
      },
    );
  }

  for (const [signal, phase] of [
    ['SIGTERM', 'first checks'],
    ['SIGTERM', 'building the app'],
    ['SIGTERM', 'listening'],
    ['SIGINT', 'opening the database'],
    ['SIGHUP', 'first checks'],
    ['SIGQUIT', 'listening'],
  ] as const) {
    itAsPid1(`${signal} in the phase "${phase}" stops the start there`, async (t) => {
      const { service, code, ms } = await signalInPhase(signal, phase, pausedIn(phase));
      t.diagnostic(`exit ${code} ${ms} ms after ${signal}`);
      assertStoppedDuringStart(service, code, signal);
      assert.equal(logged(service, /^stopped during start-up/)?.phase, phase);
    });
  }
});

describe('the launcher', () => {
  it('holds exactly the signals the service stops on (src/process/stop-signals.ts)', () => {
    assertBuilt();
    // In a process of its own: the built launcher's holdStopSignals, and which signals gained a listener.
    const script = [
      `const launcher = require(${JSON.stringify(MAIN)});`,
      "const names = Object.keys(require('node:os').constants.signals);",
      'const before = names.map((name) => process.listenerCount(name));',
      'launcher.holdStopSignals();',
      'process.stdout.write(JSON.stringify(names.filter((name, i) => process.listenerCount(name) > before[i])));',
    ].join('\n');
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 0, `status ${run.status} signal ${run.signal}: ${run.stderr}`);
    assert.deepEqual(JSON.parse(run.stdout).sort(), [...STOP_SIGNALS].sort(), 'held by the launcher vs stopped on');
  });
});

describe('a stop signal while serving, as PID 1', () => {
  itAsPid1('SIGTERM is acted on: readiness 503 through the drain, then exit 0', async (t) => {
    const service = await startService({ prefix: PID1, env: { SHUTDOWN_DRAIN_DELAY_MS: '1000' } });
    running.push(service);
    const pid = await innerPid(service.pid);
    const sent = performance.now();
    process.kill(pid, 'SIGTERM');
    await waitFor(() => logged(service, /^shutting down \(SIGTERM\)/), {
      timeoutMs: 5000,
      what: `the shutdown to begin (as PID 1 a signal with no handler is dropped):\n${messages(service)}`,
    });
    const ready = await fetch(`${service.url}/health/ready`, { signal: AbortSignal.timeout(5000) });
    assert.equal(ready.status, 503, 'readiness DOWN while draining');
    assert.equal(await exitWithin(service, 10_000), 0, messages(service));
    t.diagnostic(`exit 0 ${Math.round(performance.now() - sent)} ms after SIGTERM (drain delay 1000 ms)`);
    assert.ok(logged(service, /^shutdown complete$/), messages(service));
  });
});

describe('a stop signal while the listener opens, as PID 1', () => {
  itAsPid1('is acted on once the service listens: it drains and exits 0, it does not go on serving', async (t) => {
    const service = startServiceRaw({
      prefix: PID1,
      ...pausedIn('listener open', 3000),
      env: { SHUTDOWN_DRAIN_DELAY_MS: '100' },
    });
    running.push(service);
    const pid = await innerPid(service.pid);
    // Listening, and held before the shutdown takes the signals over: the start-up's handler gets it.
    await waitFor(() => logged(service, /^Starting HTTP service/), { timeoutMs: 30_000, what: 'the listen line' });
    const sent = performance.now();
    process.kill(pid, 'SIGTERM');
    const code = await exitWithin(service, 20_000);
    t.diagnostic(`exit ${code} ${Math.round(performance.now() - sent)} ms after SIGTERM (3000 ms pause, 100 ms drain)`);
    assert.equal(code, 0, `exit code, with log:\n${messages(service)}\n${service.stderr()}`);
    assert.equal(logged(service, /^stopped during start-up/), undefined, 'it had started: a shutdown, not a stop');
    assert.ok(logged(service, /^shutting down \(SIGTERM\)/), `the shutdown names the signal:\n${messages(service)}`);
    assert.ok(logged(service, /^shutdown complete$/), `the shutdown completed:\n${messages(service)}`);
  });
});

describe('signals while serving', () => {
  for (const signal of ['SIGHUP', 'SIGQUIT'] as const) {
    it(`${signal} shuts down gracefully: drain, close, exit 0`, async () => {
      const service = await startService({ env: { SHUTDOWN_DRAIN_DELAY_MS: '200' } });
      running.push(service);
      assert.equal((await fetch(`${service.url}/health`, { signal: AbortSignal.timeout(5000) })).status, 200);
      const code = await service.stop(signal, 15_000);
      assert.equal(code, 0, messages(service));
      assert.ok(logged(service, new RegExp(`^shutting down \\(${signal}\\)`)), messages(service));
      assert.ok(logged(service, /^shutdown complete$/), messages(service));
    });
  }

  it('SIGUSR1 in production opens no inspector and the service keeps serving', async () => {
    const inspectorFreeBefore = !(await listening(9229));
    const service = await startService({ env: { NODE_ENV: 'production' } });
    running.push(service);
    process.kill(service.pid, 'SIGUSR1');
    await waitFor(() => logged(service, /^SIGUSR1 ignored/), { timeoutMs: 5000, what: 'the SIGUSR1 log line' });
    assert.doesNotMatch(service.stderr(), /Debugger|inspector/i);
    if (inspectorFreeBefore) assert.equal(await listening(9229), false, 'nothing listens on 127.0.0.1:9229');
    const account = await fetch(`${service.url}/accounts/10000`, { signal: AbortSignal.timeout(5000) });
    assert.equal(account.status, 200);
    assert.equal(await service.stop('SIGTERM'), 0);
  });

  it('a stop while /health is DOWN skips the drain delay; an ordinary stop keeps it', async (t) => {
    const env = { TESTABILITY_ENABLED: 'true', SHUTDOWN_DRAIN_DELAY_MS: '4000' };
    const unhealthy = await startService({ env });
    running.push(unhealthy);
    await fetch(`${unhealthy.url}/testability/healthy/false`, { signal: AbortSignal.timeout(5000) });
    const started = performance.now();
    assert.equal(await unhealthy.stop('SIGTERM', 15_000), 0);
    const stoppedMs = Math.round(performance.now() - started);
    t.diagnostic(`unhealthy: exit 0 ${stoppedMs} ms after SIGTERM (drain delay 4000 ms skipped)`);
    assert.ok(stoppedMs < 3000, `stopped after ${stoppedMs} ms`);
    assert.equal(logged(unhealthy, /^shutting down/)?.drainDelayMs, 0, messages(unhealthy));

    const healthy = await startService({ env });
    running.push(healthy);
    const healthyStarted = performance.now();
    assert.equal(await healthy.stop('SIGTERM', 15_000), 0);
    t.diagnostic(
      `healthy: exit 0 ${Math.round(performance.now() - healthyStarted)} ms after SIGTERM (drained 4000 ms)`,
    );
    assert.equal(logged(healthy, /^shutting down/)?.drainDelayMs, 4000, messages(healthy));
  });
});

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 2000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
