// A careless operator's settings against the built service: each is refused before anything
// opens (no database file, no start-up phase, nothing listening), with one stderr line that names
// the setting and exit 1; never a start that runs silently laxer than asked.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { startServiceRaw } from '../helpers/service-process.js';
import { withDeadline } from '../helpers/deadline.js';

type Raw = ReturnType<typeof startServiceRaw>;
const running: Raw[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
});

const PREFIX = 'accountservice: invalid configuration: ';

/** Runs the service with env to its exit; resolves with its stderr lines once it has exited 1. */
async function refused(env: Record<string, string>): Promise<{ lines: string[]; service: Raw }> {
  const service = startServiceRaw({ env, waitForListen: false });
  running.push(service);
  const closed = once(service.child, 'close'); // after the exit and all of stdout and stderr
  // Bounded: were the refusal broken, the service would start and never exit.
  assert.equal(await service.exitedWithin(15_000), 1, `exit code; stderr: ${service.stderr()}`);
  await withDeadline(closed, 5000, 'stdout and stderr to close');
  const stderr = service.stderr();
  assert.ok(stderr.endsWith('\n'), `stderr ends its last line: ${JSON.stringify(stderr)}`);
  assert.deepEqual(
    service.logs.filter((line) => line.codeCache === undefined),
    [],
    "nothing logged (but the launcher's code cache line): no start-up phase began",
  );
  assert.equal(existsSync(`${service.dataDir}/accounts.mdb`), false, 'the database file was never created');
  return { lines: stderr.slice(0, -1).split('\n'), service };
}

describe('settings refused before anything opens (built service)', { concurrency: true }, () => {
  for (const value of ['Production', 'prod', 'staging']) {
    it(`NODE_ENV=${value}: refused, not run as development`, async () => {
      const { lines } = await refused({ NODE_ENV: value });
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.ok(
        lines[0]!.startsWith(`${PREFIX}NODE_ENV must be production, development or test, or unset (got "${value}")`),
        lines[0],
      );
    });
  }
});
