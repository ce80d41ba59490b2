// Two instances on one LMDB file: the second refuses to start with a clear error, and the first
// keeps serving. As in two containers, each service runs as PID 1 in a PID namespace of its own
// (unshare), where LMDB cannot tell them apart; a holder that is gone (killed) is waited out, not
// taken for a live one, so a restart on the same file is no crash loop.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startService, startServiceRaw, type ServiceProcess } from '../helpers/service-process.js';
import { seededAccountJson } from '../helpers/account-json.js';
import { waitFor } from '../helpers/wait.js';
import { pid1Skip, PID1, innerPid } from '../helpers/pid1.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'accountservice-shared-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function refusedSecond(dataDir: string, prefix: readonly string[] | undefined): Promise<string> {
  const second = startServiceRaw({ dataDir, ...(prefix ? { prefix } : {}) });
  cleanups.push(() => second.cleanup());
  const code = await Promise.race([
    second.exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the second did not exit')), 20_000).unref()),
  ]);
  assert.equal(code, 1, `the second instance exits 1: ${JSON.stringify(second.logs)}`);
  const fatal = second.logs.find((line) => line.level === 60);
  assert.ok(fatal, `one fatal line: ${JSON.stringify(second.logs)}`);
  assert.equal(
    second.logs.find((line) => /^Starting HTTP service/.test(String(line.msg))),
    undefined,
  );
  return String(fatal.msg);
}

async function stillServes(first: ServiceProcess): Promise<void> {
  const health = await fetch(`${first.url}/health`, { signal: AbortSignal.timeout(5000) });
  assert.equal(health.status, 200);
  const account = await fetch(`${first.url}/accounts/10000`, { signal: AbortSignal.timeout(5000) });
  assert.equal(await account.text(), seededAccountJson(0));
}

describe('one database file, two instances', () => {
  it(
    'as PID 1 in two PID namespaces (two containers): the second refuses, the first serves on',
    { skip: pid1Skip },
    async () => {
      const dataDir = tempDir();
      const first = await startService({ dataDir, prefix: PID1 });
      cleanups.push(() => first.cleanup());
      const message = await refusedSecond(dataDir, PID1);
      assert.match(
        message,
        /^the database at .*accounts\.mdb is in use by another instance: pid 1 on .* \(in another container/,
      );
      assert.match(message, /give each instance its own DB_PATH/);
      await stillServes(first);
      // Watched for a few heartbeats more: the refused start did the first no harm.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await stillServes(first);
    },
  );

  it('on one machine, in one PID namespace: the second refuses, naming the holder', async () => {
    const dataDir = tempDir();
    const first = await startService({ dataDir });
    cleanups.push(() => first.cleanup());
    const message = await refusedSecond(dataDir, undefined);
    assert.match(message, new RegExp(`pid ${first.pid} on .* \\(a process on this machine\\) has it open`));
    await stillServes(first);
  });

  it(
    'a holder that was killed is no obstacle: the next start on the file serves (as PID 1 again)',
    { skip: pid1Skip },
    async () => {
      const dataDir = tempDir();
      const first = startServiceRaw({ dataDir, prefix: PID1 });
      cleanups.push(() => first.cleanup());
      await waitFor(first.url, { timeoutMs: 15_000, what: 'the first to listen' });
      process.kill(await innerPid(first.pid), 'SIGKILL');
      await first.exited;
      const next = await startService({ dataDir, prefix: PID1, timeoutMs: 20_000 });
      cleanups.push(() => next.cleanup());
      await stillServes(next);
    },
  );
});
