// The account store's read alone, against lmdb-js's own best case and a Map: what one lookup costs
// without HTTP around it, in CPU ns per read. lmdb's best case is getBinaryFast in a tight loop, its
// read transaction renewed once (what lmdb-js's benchmarks show); the store copies the value out of
// lmdb's shared buffer. lmdb-js resets its read transaction on a timer after each millisecond with
// reads, and the next read renews it: so a read alone in its event-loop turn, a millisecond after
// the last, is timed for lmdb's default (renewed each time) and for the store (which shares one
// read transaction for a while, LOOKUP_SNAPSHOT_MS), and ten reads a turn for the store.
//
//   node --import tsx bench/programs/store-read.ts DIR [--ms 400]     prints BENCH_STORE {...}

import { join } from 'node:path';
import { encodeAccount } from '../../src/accounts/account.js';
import { LmdbAccountStore } from '../../src/accounts/lmdb-account-store.js';
import { seedAccounts } from '../../src/accounts/seed.js';

const dir = process.argv[2];
if (dir === undefined || dir.startsWith('--')) {
  process.stderr.write('store-read: give a directory for the database\n');
  process.exit(2);
}
const msAt = process.argv.indexOf('--ms');
const budgetMs = msAt === -1 ? 400 : Number(process.argv[msAt + 1]);
if (!(budgetMs > 0)) {
  process.stderr.write('store-read: --ms wants a positive number of milliseconds\n');
  process.exit(2);
}

const store = LmdbAccountStore.open(join(dir, 'accounts.mdb'));
await store.seed(seedAccounts(100));
const ids = Array.from(seedAccounts(100), (account) => account.id);
const memory = new Map(Array.from(seedAccounts(100), (account) => [account.id, encodeAccount(account)]));
// lmdb's own database handle inside the store: the best case reads it directly, with no copy.
const lmdb = (store as unknown as { accounts: { getBinaryFast(id: string): Uint8Array | undefined } }).accounts;

type Read = (id: string) => unknown;

/** CPU ns per read over about budgetMs, reads in a tight loop (one read transaction throughout). */
function tight(read: Read): number {
  for (let i = 0; i < 50_000; i++) read(ids[i % 100]!);
  let reads = 0;
  const started = process.cpuUsage();
  const until = performance.now() + budgetMs;
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) read(ids[i % 100]!);
    reads += 1000;
  }
  const used = process.cpuUsage(started);
  return ((used.user + used.system) * 1000) / reads;
}

/**
 * ns per read with `reads` reads in each event-loop turn, each turn a timer 1 ms after the last (by
 * then lmdb's own timer has reset its read transaction). Each turn's reads are timed alone (the
 * turn's own cost left out); the figure is the median turn's, which a preempted turn does not move.
 */
async function perTurn(read: Read, reads: number): Promise<number> {
  const samples: number[] = [];
  const until = performance.now() + budgetMs / 2;
  for (let turn = 0; performance.now() < until || samples.length < 20; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const started = performance.now();
    for (let k = 0; k < reads; k++) read(ids[(turn * reads + k) % 100]!);
    samples.push(((performance.now() - started) * 1e6) / reads);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

const getAccountJson: Read = (id) => store.getAccountJson(id);
const figures = {
  mapGetNs: tight((id) => memory.get(id)),
  lmdbBestCaseNs: tight((id) => lmdb.getBinaryFast(id)),
  storeTightNs: tight(getAccountJson),
  lmdbOnePerTurnNs: await perTurn((id) => lmdb.getBinaryFast(id), 1),
  storeOnePerTurnNs: await perTurn(getAccountJson, 1),
  storeTenPerTurnNs: await perTurn(getAccountJson, 10),
};
await store.close();
process.stdout.write(`BENCH_STORE ${JSON.stringify(figures)}\n`);
