// The bare node:http example as a user would run it: a child process on port 0, probed over HTTP,
// stopped with a real SIGTERM. It proves the package works with no framework at all, and that its
// shutdown ends the process by itself, on time, with the test's pooled keep-alive connections open.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { withDeadline } from '../helpers/deadline.js';
import { waitFor } from '../helpers/wait.js';

const root = new URL('../..', import.meta.url).pathname;
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface Example {
  readonly base: string;
  readonly child: ChildProcess;
  /** The JSON lines it printed so far. */
  lines(): Record<string, unknown>[];
  stderr(): string;
  /** Resolves at its exit with the code (or signal) and when it came. */
  readonly exited: Promise<{ code: number | null; signal: string | null; at: number }>;
}

async function startExample(env: Record<string, string>): Promise<Example> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/bare-http/server.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const port = await waitFor(() => /"listening":(\d+)/.exec(stdout)?.[1], {
    timeoutMs: 20_000,
    what: `the example to print its port (stderr: ${stderr})`,
  });
  const lines = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { base: `http://127.0.0.1:${port}`, child, lines, stderr: () => stderr, exited };
}

async function probe(base: string, path: string): Promise<{ status: number; body: string }> {
  // fetch keeps its connections alive: the example must not wait on them to exit.
  const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.text() };
}

/** SIGTERM, then readiness 503 at once with liveness 200; resolves with the exit and its time after the signal. */
async function stopAndWatch(example: Example, boundMs: number) {
  await waitFor(async () => (await probe(example.base, '/health/started')).status === 200, { what: 'started' });
  for (const path of ['/health/live', '/health/ready', '/health/started']) {
    assert.deepEqual(await probe(example.base, path), { status: 200, body: '{"status":"UP"}' }, path);
  }
  assert.equal((await probe(example.base, '/')).body, 'hello\n');
  const signalledAt = performance.now();
  example.child.kill('SIGTERM');
  const ready = await waitFor(
    async () => {
      const answer = await probe(example.base, '/health/ready');
      return answer.status === 503 ? answer : undefined;
    },
    { timeoutMs: 1000, intervalMs: 10, what: 'ready to turn 503 after SIGTERM' },
  );
  assert.deepEqual(JSON.parse(ready.body), {
    status: 'DOWN',
    checks: { draining: { status: 'DOWN', cause: 'shutting down' } },
  });
  assert.equal((await probe(example.base, '/health/live')).status, 200, 'alive while draining');
  const exit = await withDeadline(example.exited, boundMs + 5000, `the example to exit (stderr: ${example.stderr()})`);
  return { code: exit.code, signal: exit.signal, afterMs: Math.round(exit.at - signalledAt) };
}

describe('examples/bare-http', () => {
  it('with its default settings: unready at SIGTERM at once, drains 2 s, exits 0 within drain + timeout (7 s)', async (t) => {
    const example = await startExample({});
    const exit = await stopAndWatch(example, 7000);
    t.diagnostic(`exit ${exit.code} ${exit.afterMs} ms after SIGTERM`);
    assert.deepEqual([exit.code, exit.signal], [0, null], example.stderr());
    assert.ok(exit.afterMs >= 2000, `drained for its 2000 ms before exiting (exited after ${exit.afterMs} ms)`);
    assert.ok(exit.afterMs < 7000, `exited within drain + timeout, 7000 ms (took ${exit.afterMs} ms)`);
    const events = example.lines();
    const draining = events.find((e) => e.type === 'check' && e.check === 'draining');
    assert.deepEqual([draining?.from, draining?.to], ['UP', 'DOWN']);
    const steps = events.flatMap((e) => (e.shutdown === undefined ? [] : [(e.shutdown as { type: string }).type]));
    assert.deepEqual(steps, ['signal', 'draining', 'closing', 'health-closed', 'servers-closed', 'exit']);
  });

  it('reads DRAIN_DELAY_MS and SHUTDOWN_TIMEOUT_MS', async (t) => {
    const example = await startExample({ DRAIN_DELAY_MS: '300', SHUTDOWN_TIMEOUT_MS: '1500' });
    const exit = await stopAndWatch(example, 1800);
    t.diagnostic(`exit ${exit.code} ${exit.afterMs} ms after SIGTERM`);
    assert.deepEqual([exit.code, exit.signal], [0, null], example.stderr());
    assert.ok(exit.afterMs >= 300 && exit.afterMs < 1800, `exited ${exit.afterMs} ms after SIGTERM (300 to 1800)`);
    const draining = example.lines().find((e) => (e.shutdown as { type?: string } | undefined)?.type === 'draining');
    assert.equal((draining?.shutdown as { drainDelayMs: number }).drainDelayMs, 300);
  });

  it('refuses a bad setting with one line naming it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/bare-http/server.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', DRAIN_DELAY_MS: '2s' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await withDeadline(
      new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode))),
      20_000,
      'the example to exit',
    );
    assert.equal(code, 1);
    assert.equal(stderr, 'bare-http: DRAIN_DELAY_MS must be a whole number from 0 to 600000 (got "2s")\n');
  });
});
