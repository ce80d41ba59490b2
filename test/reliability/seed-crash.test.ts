// kill -9 at random points of startup and seeding, many times over the same data directory: the
// data always opens; it either holds a complete seed that its health check vouches for, or the
// check says "not seeded" and it holds whole batches of it (never a torn batch), which the next
// start completes; a final normal start ends with exactly the seeded count. The kill delays come
// from a seeded PRNG, spread over the startup as measured on this machine by a calibration run.

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbAccountStore } from '../../src/accounts/lmdb-account-store.js';
import { FIRST_SEED_ID } from '../../src/accounts/seed.js';
import { SEED_BATCH_SIZE } from '../../src/accounts/account-store.js';
import { startService, startServiceRaw, type LogLine } from '../helpers/service-process.js';
import { seededAccountJson } from '../helpers/account-json.js';
import { waitFor } from '../helpers/wait.js';
import { seededRandom } from './support.js';
import { withDeadline } from '../helpers/deadline.js';

const SEED = 8_2026;

interface Timing {
  /** From spawn to the "Starting accountservice" line. */
  readonly startingMs: number;
  /** From spawn to the "Seeded ..." line. */
  readonly seededMs: number;
}

type Phase = 'before seeding' | 'during seeding' | 'after seeding';

function logged(logs: readonly LogLine[], pattern: RegExp): boolean {
  return logs.some((line) => pattern.test(line.msg ?? ''));
}

/** One normal start on a scratch directory, to learn when seeding begins and ends on this machine. */
async function calibrate(env: Record<string, string>): Promise<Timing> {
  const spawnedAt = Date.now();
  const service = startServiceRaw({ env });
  const seen: Partial<Record<'starting' | 'seeded', number>> = {};
  service.child.stdout!.on('data', () => {
    const now = Date.now() - spawnedAt;
    if (seen.starting === undefined && logged(service.logs, /^Starting accountservice$/)) seen.starting = now;
    if (seen.seeded === undefined && logged(service.logs, /^Seeded \d+ fake accounts/)) seen.seeded = now;
  });
  try {
    await waitFor(() => seen.seeded !== undefined, { timeoutMs: 60_000, what: 'the calibration run to seed' });
    return { startingMs: seen.starting!, seededMs: seen.seeded! };
  } finally {
    await service.cleanup();
  }
}

/** What a killed start left: how many accounts, and whether the health check vouches for a seed. */
async function storeContents(dbPath: string, accounts: number): Promise<{ count: number; seeded: boolean }> {
  const store = LmdbAccountStore.open(dbPath);
  try {
    const count = await store.count();
    const seeded = await store.check().then(
      () => true,
      (error: unknown) => {
        assert.match(String(error), /not been seeded/, 'a failed check means "not seeded", nothing else');
        return false;
      },
    );
    if (seeded) {
      assert.equal(count, accounts, 'a seed the check vouches for is complete');
      const last = FIRST_SEED_ID + accounts - 1;
      const json = store.getAccountJson(String(last));
      assert.equal(Buffer.from(json ?? []).toString(), `{"id":"${last}","name":"Person_${accounts - 1}"}`);
    } else {
      assert.ok(count < accounts, `not seeded, yet all ${accounts} accounts are there`);
      assert.equal(count % SEED_BATCH_SIZE, 0, `${count} accounts: not whole batches of ${SEED_BATCH_SIZE}`);
    }
    return { count, seeded };
  } finally {
    await store.close();
  }
}

/**
 * Kills the service with SIGKILL `kills` times at random points of its startup, checking after each
 * kill that the data opens and holds 0 or all `accounts`; then starts it normally and checks it ends
 * with exactly `accounts`.
 */
async function killDuringSeeding(
  t: TestContext,
  {
    accounts,
    kills,
    seed,
    minDuringSeeding,
  }: { accounts: number; kills: number; seed: number; minDuringSeeding: number },
): Promise<void> {
  const env: Record<string, string> = accounts === 100 ? {} : { SEED_ACCOUNTS: String(accounts) };
  const timing = await calibrate(env);
  // From a little before the seed starts to a little after it ends, where most of the kills land mid-seed.
  const from = timing.startingMs * 0.8;
  const to = timing.seededMs + (timing.seededMs - timing.startingMs) * 0.15;
  t.diagnostic(
    `SEED_ACCOUNTS=${accounts}: calibration run logged "Starting" at ${timing.startingMs} ms and "Seeded" at ${timing.seededMs} ms ` +
      `after spawn; kills drawn uniformly from ${Math.round(from)}-${Math.round(to)} ms (PRNG seed ${seed})`,
  );
  const random = seededRandom(seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'accountservice-kill9-'));
  const dbPath = join(dataDir, 'accounts.mdb');
  const phases: Record<Phase, number> = { 'before seeding': 0, 'during seeding': 0, 'after seeding': 0 };
  const found = { none: 0, part: 0, all: 0 };
  let wiped = 0;
  try {
    for (let i = 0; i < kills; i++) {
      const delayMs = Math.round(from + random() * (to - from));
      const service = startServiceRaw({ env, dataDir });
      try {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        service.child.kill('SIGKILL');
        assert.equal(
          await withDeadline(service.exited, 10_000, 'the killed service to exit'),
          'SIGKILL',
          `kill ${i + 1} at ${delayMs} ms`,
        );
      } finally {
        await service.cleanup();
      }
      const phase: Phase = logged(service.logs, /^Seeded /)
        ? 'after seeding'
        : logged(service.logs, /^Starting accountservice$/)
          ? 'during seeding'
          : 'before seeding';
      phases[phase]++;
      assert.ok(
        !/Error|error/.test(service.stderr()),
        `kill ${i + 1}: the start before it failed: ${service.stderr()}`,
      );
      const { count, seeded } = await storeContents(dbPath, accounts);
      found[seeded ? 'all' : count === 0 ? 'none' : 'part']++;
      // A start on a complete seed writes nothing, so a kill there proves little: start the next kill
      // from empty again. A part of a seed is kept, so the next start has to complete it. Not after
      // the last kill: the final start must open what the kills left.
      if (seeded && i < kills - 1) {
        rmSync(dataDir, { recursive: true, force: true });
        mkdirSync(dataDir);
        wiped++;
      }
    }
    // A test whose kills all missed the seed would prove nothing.
    assert.ok(
      phases['during seeding'] >= minDuringSeeding,
      `only ${phases['during seeding']} of ${kills} kills landed during seeding`,
    );

    const final = await startService({ env, dataDir });
    try {
      const seededLine = final.logs.find((line) => /^Seeded /.test(line.msg ?? ''));
      assert.equal(seededLine?.total, accounts, 'the final start logs exactly the seeded total');
      const last = FIRST_SEED_ID + accounts - 1;
      assert.equal(await (await fetch(`${final.url}/accounts/${FIRST_SEED_ID}`)).text(), seededAccountJson(0));
      assert.equal(await (await fetch(`${final.url}/accounts/${last}`)).text(), seededAccountJson(accounts - 1));
      assert.equal((await fetch(`${final.url}/accounts/${last + 1}`)).status, 404, 'no account past the last');
      assert.equal((await fetch(`${final.url}/health`)).status, 200);
      assert.equal(await final.stop('SIGTERM'), 0);
    } finally {
      await final.cleanup();
    }
    assert.deepEqual(
      await storeContents(dbPath, accounts),
      { count: accounts, seeded: true },
      'exactly the seeded count after the final stop',
    );
    t.diagnostic(
      `kills during startup: ${kills} (${phases['before seeding']} before seeding, ${phases['during seeding']} during, ` +
        `${phases['after seeding']} after); data after each kill: ${found.all} times a complete seed, ${found.part} times ` +
        `whole batches marked "not seeded", ${found.none} times nothing; never a seed the check vouched for that was not ` +
        `complete (${wiped} times emptied again after a complete seed); final start: exactly ${accounts}`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe(`kill -9 during seeding (PRNG seed ${SEED})`, () => {
  it('50000 accounts, 20 kills at random points: the data always opens, "not seeded" or complete, and the next start ends with exactly 50000', async (t) => {
    await killDuringSeeding(t, { accounts: 50_000, kills: 20, seed: SEED, minDuringSeeding: 7 });
  });

  it('the default 100 accounts, 8 kills at random points: the next start ends with exactly 100', async (t) => {
    // Seeding 100 accounts takes a few ms: these kills land anywhere in startup, seeding or not.
    await killDuringSeeding(t, { accounts: 100, kills: 8, seed: SEED + 1, minDuringSeeding: 0 });
  });
});
