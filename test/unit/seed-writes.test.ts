// How seeding writes: each write is one atomic (and, on LMDB, synced) transaction, so their number
// is what a fresh start pays and their order is what a crash can leave behind.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { seedInBatches, type SeedMarker, type SeedTarget } from '../../src/accounts/account-store.js';
import { seedAccounts } from '../../src/accounts/seed.js';

interface Write {
  readonly ids: readonly string[];
  readonly marker: SeedMarker | null | undefined;
}

function recordingTarget(): SeedTarget & { writes: Write[] } {
  const accounts = new Map<string, Uint8Array>();
  let marker: SeedMarker | undefined;
  const writes: Write[] = [];
  return {
    writes,
    readMarker: () => marker,
    read: (id) => accounts.get(id),
    write(entries, next) {
      writes.push({ ids: entries.map(([id]) => id), marker: next });
      for (const [id, bytes] of entries) accounts.set(id, bytes);
      if (next !== undefined) marker = next ?? undefined;
    },
    count: () => accounts.size,
  };
}

test('a fresh seed that fits in one batch is one write, its marker with it', async () => {
  const target = recordingTarget();
  assert.deepEqual(await seedInBatches(target, seedAccounts(100)), { seeded: 100, written: 100, total: 100 });
  assert.equal(target.writes.length, 1);
  assert.equal(target.writes[0]!.ids.length, 100);
  assert.equal(target.writes[0]!.marker?.count, 100);
});

test('in batches, only the last write carries the marker, and every account is written before it or with it', async () => {
  const target = recordingTarget();
  await seedInBatches(target, seedAccounts(25), { batchSize: 10 });
  assert.deepEqual(
    target.writes.map((w) => [w.ids.length, w.marker === undefined ? 'no marker' : 'marker']),
    [
      [10, 'no marker'],
      [10, 'no marker'],
      [5, 'marker'],
    ],
  );
});

test('a seed already stored writes nothing', async () => {
  const target = recordingTarget();
  await seedInBatches(target, seedAccounts(100));
  target.writes.length = 0;
  assert.deepEqual(await seedInBatches(target, seedAccounts(100)), { seeded: 100, written: 0, total: 100 });
  assert.deepEqual(target.writes, []);
});
