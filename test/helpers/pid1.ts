// Runs the built service as PID 1 in a PID namespace of its own (unshare, as root), as the image
// runs it: there a signal with no handler is dropped, and LMDB cannot tell two services apart.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { it, type TestContext } from 'node:test';
import { isCi } from './ci.js';
import { waitFor } from './wait.js';

/** The prefix for startService: the service's parent is unshare, which kills it when it dies. */
export const PID1 = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'] as const;

/** Why the service cannot run as PID 1 here, or undefined when it can. */
export function pid1Problem(): string | undefined {
  const probe = spawnSync(PID1[0], [...PID1.slice(1), 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error !== undefined) return `${PID1[0]} cannot run: ${probe.error.message}`;
  if (probe.status !== 0) return `${PID1.join(' ')} true failed (${probe.status}): ${probe.stderr.trim()} (needs root)`;
  return undefined;
}

let probed: { problem: string | undefined } | undefined;

/** pid1Problem(), asked once per process. */
function problemHere(): string | undefined {
  probed ??= { problem: pid1Problem() };
  return probed.problem;
}

/**
 * What a test that runs the service as PID 1 does first: when that cannot be done here, it fails in
 * CI (where every test runs), and elsewhere skips with the reason (scripts/run-tests.mjs reports the
 * file as "skipped N", never as passed). Returns whether the test goes on.
 */
export function pid1Possible(t: Pick<TestContext, 'skip'>, ci = isCi(), problem = problemHere()): boolean {
  if (problem === undefined) return true;
  if (ci) assert.fail(`the service cannot run as PID 1 here (${problem}): in CI every test must run`);
  t.skip(`${problem}; in CI this fails`);
  return false;
}

/** it() for a test that runs the service as PID 1: fn runs only when pid1Possible lets it. */
export function itAsPid1(name: string, fn: (t: TestContext) => Promise<void>): void {
  // The promise it() returns is the runner's to await, as for any it() in a describe.
  void it(name, async (t) => {
    if (pid1Possible(t)) await fn(t);
  });
}

/** The service's own pid (PID 1 inside): the child of the unshare process whose pid is given. */
export function innerPid(unsharePid: number): Promise<number> {
  return waitFor(
    () => {
      const children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim();
      return children === '' ? undefined : Number(children.split(' ')[0]);
    },
    { timeoutMs: 10_000, what: 'the service process under unshare' },
  );
}
