// One contract, two stores: the in-memory store and the LMDB store on a real file in a temp dir
// must answer every question the same way, so tests built on the in-memory one tell the truth.

import { afterEach, beforeEach, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryAccountStore, StoreUnavailableError, type AccountStore } from '../../src/accounts/account-store.js';
import { LmdbAccountStore, StoreOpenError } from '../../src/accounts/lmdb-account-store.js';
import { open as openLmdb } from 'lmdb';
import { waitFor } from '../helpers/wait.js';
import { seedAccounts, seedOf, type AccountSeed } from '../../src/accounts/seed.js';

interface StoreKind {
  readonly name: string;
  /**
   * A fresh, empty store; the returned cleanup closes it and removes anything it left on disk.
   * loseAccount takes an account away behind the store's back, as a damaged file or a bug would:
   * the contract has no delete, so each kind does it its own way.
   */
  create(): { store: AccountStore; cleanup: () => Promise<void>; loseAccount: (id: string) => Promise<void> };
}

const kinds: StoreKind[] = [
  {
    name: 'InMemoryAccountStore',
    create() {
      const store = new InMemoryAccountStore();
      const loseAccount = async (id: string): Promise<void> => {
        // Test-only reach into the private Map: nothing else can lose an account in memory.
        (store as unknown as { accounts: Map<string, Uint8Array> }).accounts.delete(id);
      };
      return { store, cleanup: () => store.close(), loseAccount };
    },
  },
  {
    name: 'LmdbAccountStore',
    create() {
      const dir = mkdtempSync(join(tmpdir(), 'accountstore-contract-'));
      const path = join(dir, 'accounts.mdb');
      const store = LmdbAccountStore.open(path);
      return {
        store,
        // A second handle on the same file, as another process would write it.
        async loseAccount(id) {
          const other = openLmdb({ path, maxDbs: 4, compression: false });
          try {
            await other.openDB<Buffer, string>({ name: 'accounts', encoding: 'binary' }).remove(id);
          } finally {
            await other.close();
          }
        },
        async cleanup() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
}

/** Asserts the promise rejects with a StoreUnavailableError whose message matches, never a raw library error. */
/** The call's failure, whether it throws at once (a synchronous read) or rejects. */
async function assertUnavailable(call: Promise<unknown> | (() => unknown), message: RegExp): Promise<void> {
  await assert.rejects(typeof call === 'function' ? async () => call() : call, (error: unknown) => {
    assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(error)}`);
    assert.equal(error.name, 'StoreUnavailableError');
    assert.match(error.message, message);
    return true;
  });
}

/** The same seed, whose iteration aborts the controller as it yields the n-th account. */
function abortingAt(seed: AccountSeed, n: number, controller: AbortController): AccountSeed {
  return {
    count: seed.count,
    firstId: seed.firstId,
    contentId: seed.contentId,
    *[Symbol.iterator]() {
      let yielded = 0;
      for (const account of seed) {
        if (++yielded === n) controller.abort();
        yield account;
      }
    },
  };
}

for (const kind of kinds) {
  describe(`AccountStore contract: ${kind.name}`, () => {
    let store: AccountStore;
    let cleanup: () => Promise<void>;
    let loseAccount: (id: string) => Promise<void>;

    beforeEach(() => {
      ({ store, cleanup, loseAccount } = kind.create());
    });
    afterEach(async () => {
      await cleanup();
    });

    test('answers the exact JSON bytes of a seeded account', async () => {
      await store.seed(seedAccounts(100));
      const bytes = await store.getAccountJson('10000');
      assert.ok(bytes instanceof Uint8Array);
      assert.deepEqual(Buffer.from(bytes), Buffer.from('{"id":"10000","name":"Person_0"}', 'utf8'));
    });

    test('answers every seeded id with its own name', async () => {
      await store.seed(seedAccounts(100));
      for (let i = 0; i < 100; i++) {
        const id = String(10_000 + i);
        assert.equal(text(await store.getAccountJson(id)), `{"id":"${id}","name":"Person_${i}"}`);
      }
    });

    test("the bytes it answers are the caller's: later reads do not change them", async () => {
      await store.seed(seedAccounts(100));
      const kept: (Uint8Array | undefined)[] = [];
      for (const id of ['10000', '10001', '10099']) kept.push(await store.getAccountJson(id));
      for (let i = 0; i < 100; i++) await store.getAccountJson(String(10_000 + i));
      assert.deepEqual(kept.map(text), [
        '{"id":"10000","name":"Person_0"}',
        '{"id":"10001","name":"Person_1"}',
        '{"id":"10099","name":"Person_99"}',
      ]);
    });

    test('answers undefined for ids that were never seeded', async () => {
      assert.equal(await store.getAccountJson('10000'), undefined, 'before any seed');
      await store.seed(seedAccounts(100));
      for (const id of ['10100', '9999', '0', '99999999999999999999']) {
        assert.equal(await store.getAccountJson(id), undefined, id);
      }
    });

    test('counts nothing before seeding and 100 after', async () => {
      assert.equal(await store.count(), 0);
      assert.deepEqual(await store.seed(seedAccounts(100)), { seeded: 100, written: 100, total: 100 });
      assert.equal(await store.count(), 100);
    });

    test('seeding twice writes nothing the second time: 100, not 200', async () => {
      await store.seed(seedAccounts(100));
      assert.deepEqual(await store.seed(seedAccounts(100)), { seeded: 100, written: 0, total: 100 });
      assert.equal(await store.count(), 100);
      assert.equal(text(await store.getAccountJson('10099')), '{"id":"10099","name":"Person_99"}');
      await store.check();
    });

    test('seeding another count writes only the missing accounts and deletes none', async () => {
      assert.deepEqual(await store.seed(seedAccounts(5)), { seeded: 5, written: 5, total: 5 });
      assert.equal(text(await store.getAccountJson('10004')), '{"id":"10004","name":"Person_4"}');
      assert.equal(await store.getAccountJson('10005'), undefined);

      assert.deepEqual(await store.seed(seedAccounts(100)), { seeded: 100, written: 95, total: 100 });
      assert.equal(text(await store.getAccountJson('10099')), '{"id":"10099","name":"Person_99"}');

      // A smaller seed later (a restart with SEED_ACCOUNTS=5) finds its five and leaves the rest.
      assert.deepEqual(await store.seed(seedAccounts(5)), { seeded: 5, written: 0, total: 100 });
      assert.equal(await store.count(), 100);
      await store.check();
    });

    test('rewrites exactly the accounts whose stored bytes differ from the seed', async () => {
      await store.seed(seedAccounts(100), { batchSize: 7 });
      const changed = [...seedAccounts(100)].map((a, i) => (i % 40 === 3 ? { ...a, name: `Renamed_${i}` } : a));
      assert.deepEqual(await store.seed(seedOf(changed), { batchSize: 7 }), { seeded: 100, written: 3, total: 100 });
      assert.equal(text(await store.getAccountJson('10043')), '{"id":"10043","name":"Renamed_43"}');
      assert.equal(text(await store.getAccountJson('10044')), '{"id":"10044","name":"Person_44"}');
      await store.check();
    });

    test('an aborted seed stops between batches, says "not seeded", and the next seed completes it', async () => {
      const controller = new AbortController();
      const all = seedAccounts(100);
      const seeding = store.seed(abortingAt(all, 25, controller), { batchSize: 10, signal: controller.signal });
      await assert.rejects(seeding, { name: 'AbortError' });
      const partial = await store.count();
      assert.equal(partial, 30, 'whole batches only: the batch the abort came in is finished, no later one starts');
      await assertUnavailable(store.check(), /not been seeded/);
      assert.deepEqual(await store.seed(all, { batchSize: 10 }), { seeded: 100, written: 70, total: 100 });
      await store.check();
    });

    test('a seed that changes accounts removes the old seed marker with its first write', async () => {
      await store.seed(seedAccounts(100));
      const controller = new AbortController();
      const renamed = seedOf([...seedAccounts(100)].map((a) => ({ ...a, name: `Other_${a.id}` })));
      // Same count and first id as the stored seed: the marker must go anyway.
      const seeding = store.seed(abortingAt(renamed, 15, controller), { batchSize: 10, signal: controller.signal });
      await assert.rejects(seeding, { name: 'AbortError' });
      await assertUnavailable(store.check(), /not been seeded/);
      assert.deepEqual(await store.seed(renamed, { batchSize: 10 }), { seeded: 100, written: 80, total: 100 });
      await store.check();
    });

    test('an already aborted signal writes nothing', async () => {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(store.seed(seedAccounts(100), { signal: controller.signal }), { name: 'AbortError' });
      assert.equal(await store.count(), 0);
    });

    test('a store closed while a seed waits between batches ends the seed with "closed"', async () => {
      const seeding = store.seed(seedAccounts(1000), { batchSize: 10 });
      await store.close();
      await assertUnavailable(seeding, /the account store is closed/);
    });

    test('check fails before seeding, naming the reason', async () => {
      await assertUnavailable(store.check(), /not been seeded/);
    });

    test('check passes after seeding', async () => {
      await store.seed(seedAccounts(100));
      await store.check();
    });

    test("lookups stop answering an account lost behind the store's back within a second, after answering it", async () => {
      await store.seed(seedAccounts(100));
      assert.ok((await store.getAccountJson('10000')) !== undefined, 'answered before');
      await loseAccount('10000');
      await waitFor(async () => (await store.getAccountJson('10000')) === undefined, {
        timeoutMs: 1000,
        what: 'the lost account to stop being answered',
      });
    });

    test('check reads the first seeded account back: without it, it fails naming the id', async () => {
      await store.seed(seedAccounts(100));
      await loseAccount('10000');
      assert.equal(await store.getAccountJson('10000'), undefined, 'the account is gone for the store too');
      await assertUnavailable(store.check(), /seeded account 10000 cannot be read back/);
    });

    test('after close every read fails with StoreUnavailableError saying it is closed', async () => {
      await store.seed(seedAccounts(100));
      await store.close();
      await assertUnavailable(store.check(), /the account store is closed/);
      await assertUnavailable(() => store.getAccountJson('10000'), /the account store is closed/);
      await assertUnavailable(store.count(), /the account store is closed/);
      await assertUnavailable(store.seed(seedAccounts(1)), /the account store is closed/);
    });

    test('closing twice is harmless', async () => {
      await store.close();
      await store.close();
      await assertUnavailable(() => store.getAccountJson('10000'), /the account store is closed/);
    });
  });
}

describe('LmdbAccountStore on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'accountstore-lmdb-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('keeps its accounts across close and reopen of the same file', async () => {
    const path = join(dir, 'accounts.mdb');
    const first = LmdbAccountStore.open(path);
    await first.seed(seedAccounts(100));
    await first.close();

    const second = LmdbAccountStore.open(path);
    try {
      assert.equal(await second.count(), 100);
      assert.equal(text(second.getAccountJson('10000')), '{"id":"10000","name":"Person_0"}');
      assert.equal(text(second.getAccountJson('10099')), '{"id":"10099","name":"Person_99"}');
      assert.equal(second.getAccountJson('10100'), undefined);
      await second.check(); // the seed marker was persisted too
      assert.deepEqual(await second.seed(seedAccounts(100)), { seeded: 100, written: 0, total: 100 });
    } finally {
      await second.close();
    }
  });

  test('a restart on a seeded file writes nothing: the file stays byte for byte the same', async () => {
    const path = join(dir, 'accounts.mdb');
    const first = LmdbAccountStore.open(path);
    await first.seed(seedAccounts(5000), { batchSize: 1000 });
    await first.close();
    const before = readFileSync(path);

    for (let restart = 0; restart < 3; restart++) {
      const again = LmdbAccountStore.open(path);
      try {
        const result = await again.seed(seedAccounts(5000), { batchSize: 1000 });
        assert.deepEqual(result, { seeded: 5000, written: 0, total: 5000 });
        await again.check();
      } finally {
        await again.close();
      }
    }
    const after = readFileSync(path);
    assert.equal(after.length, before.length, 'the file did not grow');
    assert.ok(after.equals(before), 'not one byte of the data file changed');
  });

  test('opens a path without an extension as the data file, as it does one with', async () => {
    const path = join(dir, 'accounts');
    const store = LmdbAccountStore.open(path);
    try {
      await store.seed(seedAccounts(3));
      assert.equal(text(store.getAccountJson('10002')), '{"id":"10002","name":"Person_2"}');
    } finally {
      await store.close();
    }
    assert.ok(statSync(path).isFile(), 'the path is the data file, not a directory');
    assert.ok(statSync(`${path}-lock`).isFile(), 'its lock file beside it');
  });

  test('a path that is a directory is refused as a mistake, never moved aside as damage', () => {
    const path = join(dir, 'volume');
    mkdirSync(path);
    writeFileSync(join(path, 'keep'), "the operator's file");
    assert.throws(
      () => LmdbAccountStore.open(path, { onDamage: 'rebuild' }),
      (error: unknown) => {
        assert.ok(error instanceof StoreOpenError, `expected StoreOpenError, got ${String(error)}`);
        assert.match(error.message, /is a directory; the path names the database file, e\.g\. .*volume\/accounts\.mdb/);
        return true;
      },
    );
    assert.deepEqual(readdirSync(dir), ['volume'], 'nothing moved aside');
    assert.equal(readFileSync(join(path, 'keep'), 'utf8'), "the operator's file");
  });

  test('refuses to open in a directory that does not exist, naming the path', () => {
    const path = join(dir, 'missing', 'accounts.mdb');
    assert.throws(
      () => LmdbAccountStore.open(path),
      (error: unknown) => {
        assert.ok(error instanceof StoreOpenError, `expected StoreOpenError, got ${String(error)}`);
        assert.ok(error.message.includes(path), error.message);
        assert.match(error.message, /does not exist/);
        return true;
      },
    );
  });

  test('refuses to open under a regular file, naming the path', () => {
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, 'x');
    const path = join(file, 'accounts.mdb');
    assert.throws(
      () => LmdbAccountStore.open(path),
      (error: unknown) => {
        assert.ok(error instanceof StoreOpenError, `expected StoreOpenError, got ${String(error)}`);
        assert.ok(error.message.includes(path), error.message);
        assert.match(error.message, /not a directory/);
        return true;
      },
    );
  });
});
