// A full disk is reported as a full disk, on a real full file system: a 1 MiB tmpfs mounted for the
// test (as root). Seeding onto it used to say "the database cannot be read: Input/output error" (LMDB
// reports a write cut short as EIO), and opening on it with no room at all died of SIGBUS.

import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreFullError, StoreUnavailableError } from '../../src/accounts/account-store.js';
import { LmdbAccountStore } from '../../src/accounts/lmdb-account-store.js';
import { seedAccounts } from '../../src/accounts/seed.js';
import { startServiceRaw } from '../helpers/service-process.js';
import { withDeadline } from '../helpers/deadline.js';

const EXIT_DISK_FULL = 4;

/** Writes a file until the file system refuses more. */
function fill(dir: string): void {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(dir, `filler-${i}`), chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw error;
    }
  }
}

describe('a full disk (a 1 MiB tmpfs)', () => {
  let mountPoint: string;
  let mounted = false;
  let mountError = '';

  before(() => {
    mountPoint = mkdtempSync(join(tmpdir(), 'accountservice-full-'));
    const result = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    mounted = result.status === 0;
    mountError = `${result.stderr ?? ''}${result.error?.message ?? ''}`.trim();
  });
  after(() => {
    if (mounted) spawnSync('umount', [mountPoint], { timeout: 10_000 });
    rmSync(mountPoint, { recursive: true, force: true });
  });

  /** Skips (locally) or fails (in CI) when this machine cannot mount a tmpfs. */
  function needsMount(t: TestContext): boolean {
    if (mounted) return true;
    const reason = `cannot mount a tmpfs here (${mountError || 'not root?'})`;
    if (process.env.CI === 'true') assert.fail(`${reason}: CI must run this test`);
    t.skip(reason);
    return false;
  }

  function emptyMount(): void {
    for (const name of readdirSync(mountPoint)) rmSync(join(mountPoint, name), { recursive: true, force: true });
  }

  async function startsAndFails(t: TestContext, env: Record<string, string>): Promise<string> {
    const service = startServiceRaw({ dataDir: mountPoint, env });
    try {
      const code = await withDeadline(service.exited, 60_000, 'the service to exit');
      assert.equal(code, EXIT_DISK_FULL, `exit ${String(code)}; stderr: ${service.stderr()}`);
      assert.equal(service.url(), undefined, 'it never listened');
      const fatal = service.logs.filter((line) => line.level === 60);
      assert.equal(fatal.length, 1, `exactly one fatal line: ${JSON.stringify(service.logs)}`);
      const message = String(fatal[0]!.msg);
      assert.match(message, /^the disk is full: /);
      assert.ok(message.includes(join(mountPoint, 'accounts.mdb')), `names the file: ${message}`);
      assert.doesNotMatch(message, /Input\/output error|cannot be read/);
      t.diagnostic(`exit ${code}: ${message}`);
      return message;
    } finally {
      await service.cleanup();
    }
  }

  it(`seeding onto a disk that fills up: one fatal line "the disk is full" naming the file, exit ${EXIT_DISK_FULL}`, async (t) => {
    if (!needsMount(t)) return;
    emptyMount();
    await startsAndFails(t, { SEED_ACCOUNTS: '100000' });
  });

  it(`opening on a disk with no room left: "the disk is full", exit ${EXIT_DISK_FULL}, not a SIGBUS`, async (t) => {
    if (!needsMount(t)) return;
    emptyMount();
    fill(mountPoint);
    await startsAndFails(t, {});
  });

  it('a seed that runs out of room rejects with StoreFullError, a StoreUnavailableError (the public 503)', async (t) => {
    if (!needsMount(t)) return;
    emptyMount();
    const store = LmdbAccountStore.open(join(mountPoint, 'accounts.mdb'));
    try {
      await store.seed(seedAccounts(100));
      fill(mountPoint);
      await assert.rejects(store.seed(seedAccounts(50_000)), (error: unknown) => {
        assert.ok(error instanceof StoreFullError, `expected StoreFullError, got ${String(error)}`);
        assert.ok(error instanceof StoreUnavailableError, 'answered as every unavailable store is: 503');
        assert.match(error.message, /^the disk is full: cannot write the database at /);
        return true;
      });
      // What was seeded before is still there and readable.
      const first = Buffer.from(store.getAccountJson('10000') ?? []).toString();
      assert.equal(first, '{"id":"10000","name":"Person_0"}');
    } finally {
      await store.close();
    }
  });
});
