// Two instances on one LMDB file: the second refuses to start with a clear error, and the first
// keeps serving. As in two containers, each service runs as PID 1 in a PID namespace of its own
// (unshare), where LMDB cannot tell them apart; a holder that is gone (killed) is waited out, not
// taken for a live one, so a restart on the same file is no crash loop. The lease beside the file
// is judged by its heartbeat, so a stale one never blocks, whoever has its pid now.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startService, startServiceRaw, type ServiceProcess } from '../helpers/service-process.js';
import { seededAccountJson } from '../helpers/account-json.js';
import { withDeadline } from '../helpers/deadline.js';
import { waitFor } from '../helpers/wait.js';
import { PID1, innerPid, itAsPid1 } from '../helpers/pid1.js';

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
  const code = await withDeadline(second.exited, 20_000, 'the second instance to exit');
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
  itAsPid1('as PID 1 in two PID namespaces (two containers): the second refuses, the first serves on', async () => {
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
    // Two heartbeats more of the first: the refused start did it no harm.
    const lease = `${join(dataDir, 'accounts.mdb')}.lease`;
    for (let beat = 0; beat < 2; beat++) {
      const touched = statSync(lease).mtimeMs;
      await waitFor(() => statSync(lease).mtimeMs > touched, { timeoutMs: 10_000, what: 'the next heartbeat' });
    }
    await stillServes(first);
  });

  it('on one machine, in one PID namespace: the second refuses, naming the holder', async () => {
    const dataDir = tempDir();
    const first = await startService({ dataDir });
    cleanups.push(() => first.cleanup());
    const message = await refusedSecond(dataDir, undefined);
    assert.match(message, new RegExp(`pid ${first.pid} on .* \\(a process on this machine\\) has it open`));
    await stillServes(first);
  });

  itAsPid1('a holder that was killed is no obstacle: the next start on the file serves (as PID 1 again)', async () => {
    const dataDir = tempDir();
    const first = startServiceRaw({ dataDir, prefix: PID1 });
    cleanups.push(() => first.cleanup());
    await waitFor(first.url, { timeoutMs: 15_000, what: 'the first to listen' });
    process.kill(await innerPid(first.pid), 'SIGKILL');
    await first.exited;
    const next = await startService({ dataDir, prefix: PID1, timeoutMs: 20_000 });
    cleanups.push(() => next.cleanup());
    await stillServes(next);
  });
});

describe('the lease beside the database file', () => {
  const leaseOf = (dataDir: string): string => `${join(dataDir, 'accounts.mdb')}.lease`;

  it('is removed by a graceful stop', async () => {
    const dataDir = tempDir();
    const service = await startService({ dataDir });
    cleanups.push(() => service.cleanup());
    const held = JSON.parse(readFileSync(leaseOf(dataDir), 'utf8')) as { pid: number };
    assert.equal(held.pid, service.pid, 'the serving instance holds the lease');
    assert.equal(await service.stop('SIGTERM'), 0);
    assert.equal(existsSync(leaseOf(dataDir)), false, 'no lease is left behind after the stop');
  });

  it('naming a live pid of this machine but untouched for two hours is stale: the start serves at once', async (t) => {
    const dataDir = tempDir();
    // This test's own process: alive, in this PID namespace, and not the service (as a reused pid is).
    const stale = {
      instance: 'an instance long gone',
      pidNamespace: readlinkSync('/proc/self/ns/pid'),
      pid: process.pid,
      hostname: hostname(),
    };
    writeFileSync(leaseOf(dataDir), JSON.stringify(stale));
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(leaseOf(dataDir), twoHoursAgo, twoHoursAgo);
    const started = Date.now();
    const service = await startService({ dataDir });
    cleanups.push(() => service.cleanup());
    t.diagnostic(`listening ${Date.now() - started} ms after the start (a fresh lease: ~1 s more to watch it)`);
    await stillServes(service);
    const held = JSON.parse(readFileSync(leaseOf(dataDir), 'utf8')) as { pid: number };
    assert.equal(held.pid, service.pid, 'the new instance holds the lease');
  });

  // Not a lease this service wrote, nor one it could read: said, not skipped (a pipe would block the
  // read, a link would have the lease written wherever it points).
  const notAFile: ReadonlyArray<{ kind: string; make: (lease: string) => void }> = [
    { kind: 'a directory', make: (lease) => mkdirSync(lease) },
    {
      kind: 'a named pipe',
      make: (lease) => {
        const made = spawnSync('mkfifo', [lease], { encoding: 'utf8', timeout: 5000 });
        assert.equal(made.status, 0, `mkfifo ${lease}: ${made.stderr || String(made.error)}`);
      },
    },
    {
      kind: 'a symbolic link',
      make: (lease) => {
        const target = join(dirname(lease), 'a-regular-file');
        writeFileSync(target, '');
        symlinkSync(target, lease);
      },
    },
  ];
  for (const { kind, make } of notAFile) {
    it(`that is ${kind}: one fatal line naming it, exit 1, nothing served`, async (t) => {
      const dataDir = tempDir();
      make(leaseOf(dataDir));
      const service = startServiceRaw({ dataDir });
      cleanups.push(() => service.cleanup());
      const code = await withDeadline(service.exited, 15_000, `the service to refuse ${kind} and exit (it runs on)`);
      const fatal = service.logs.filter((line) => line.level === 60);
      assert.equal(code, 1, `exit code; log: ${JSON.stringify(service.logs)}`);
      assert.equal(fatal.length, 1, `one fatal line: ${JSON.stringify(service.logs)}`);
      assert.match(
        String(fatal[0]!.msg),
        new RegExp(`lease file .*accounts\\.mdb\\.lease is ${kind}, not a regular file`),
      );
      t.diagnostic(`exit 1: ${String(fatal[0]!.msg)}`);
      assert.equal(service.url(), undefined, 'it never listened');
    });
  }
});
