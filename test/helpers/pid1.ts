// Runs the built service as PID 1 in a PID namespace of its own (unshare, as root), as the image
// runs it: there a signal with no handler is dropped, and LMDB cannot tell two services apart.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

const problem = pid1Problem();

/** For a test's skip option: a reason on a machine that cannot, never in CI (there it must fail). */
export const pid1Skip: false | string = problem === undefined || isCi() ? false : `${problem}; in CI this fails`;

/** Fails the test when the service cannot run as PID 1 (so CI, where nothing is skipped, fails). */
export function assertPid1Possible(): void {
  if (problem !== undefined) throw new Error(problem);
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
