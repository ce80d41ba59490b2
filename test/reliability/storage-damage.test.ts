// A damaged database file or lock file at start: the built service checks the files before lmdb maps
// them, logs one fatal line naming the file and the problem, and exits with code 3 (never a signal:
// before the check, each of these killed it with SIGSEGV or SIGBUS and no word). With
// DB_ON_DAMAGE=rebuild it moves the damaged file aside, reseeds, and serves.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { LmdbAccountStore } from '../../src/accounts/lmdb-account-store.js';
import { seedAccounts } from '../../src/accounts/seed.js';
import { startService, startServiceRaw } from '../helpers/service-process.js';
import { seededRandom } from './support.js';
import { withDeadline } from '../helpers/deadline.js';
import { seededAccountJson } from '../helpers/account-json.js';

const EXIT_DAMAGED = 3;
const PAGE = 4096;

function randomBytes(length: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** Overwrites bytes start to end of the file with zeros; returns the file. */
function zero(file: string, start: number, end: number): string {
  const bytes = readFileSync(file);
  bytes.fill(0, start, end);
  writeFileSync(file, bytes);
  return file;
}

/** A real database seeded with the default 100 accounts, as a start of the service leaves it. */
async function seededDatabase(dir: string): Promise<string> {
  mkdirSync(dir);
  const file = join(dir, 'accounts.mdb');
  const store = LmdbAccountStore.open(file);
  await store.seed(seedAccounts(100));
  await store.close();
  return file;
}

/** The last page and transaction id of both meta pages (MDB_meta: mm_last_pg and mm_txnid after two MDB_db). */
function metaPages(file: string): { lastPage: number; txnid: bigint }[] {
  const bytes = readFileSync(file);
  return [0, 1].map((page) => ({
    lastPage: Number(bytes.readBigUInt64LE(page * PAGE + 24 + 24 + 96)),
    txnid: bytes.readBigUInt64LE(page * PAGE + 24 + 24 + 104),
  }));
}

/** Which meta page holds the newest snapshot: the one lmdb opens. */
function newestMeta(file: string): 0 | 1 {
  const [meta0, meta1] = metaPages(file);
  return meta1!.txnid > meta0!.txnid ? 1 : 0;
}

/**
 * Commits more writes to the database, the last one a value seen nowhere else, and damages the
 * header of the leaf page that holds it: a page only the newest snapshot reaches (copy-on-write
 * gave the leaf a new page; the older snapshot still has the page from before). The number of
 * commits decides which meta page ends up the newest. Returns the file.
 */
async function damageNewestOnly(file: string, commits: number, newest: 0 | 1): Promise<string> {
  const marker = Buffer.alloc(1000, 0xa5);
  const root = openLmdb({ path: file, compression: false, maxDbs: 4 });
  const accounts = root.openDB<Buffer, string>({ name: 'accounts', encoding: 'binary' });
  for (let commit = 1; commit <= commits; commit++) {
    accounts.putSync(`zz-commit-${commit}`, commit === commits ? marker : Buffer.from(`commit ${commit}`));
  }
  await root.close();
  assert.equal(newestMeta(file), newest, `after ${commits} more commits meta page ${newest} is the newest`);
  const bytes = readFileSync(file);
  const at = bytes.indexOf(marker);
  assert.ok(at > 0 && bytes.indexOf(marker, at + 1) < 0, 'the value is on exactly one page');
  const page = Math.floor(at / PAGE);
  bytes.writeBigUInt64LE(BigInt(page + 1000), page * PAGE); // the page now says it is another
  writeFileSync(file, bytes);
  return file;
}

interface DamageKind {
  readonly name: string;
  /** Damages the seeded file (or its lock file); returns the path the fatal line must name. */
  damage(file: string): string | Promise<string>;
  readonly problem: RegExp;
}

const kinds: DamageKind[] = [
  {
    name: 'a file of random bytes',
    damage: (file) => (writeFileSync(file, randomBytes(64 * 1024, 1901)), file),
    problem: /is not an LMDB database/,
  },
  {
    name: 'the file truncated to 8 KB',
    damage: (file) => (truncateSync(file, 8 * 1024), file),
    problem: /truncated: 8192 bytes/,
  },
  {
    name: 'the file truncated to 12 KB',
    damage: (file) => (truncateSync(file, 12 * 1024), file),
    problem: /truncated: 12288 bytes/,
  },
  {
    // The bound on the last page off by one lets this through to a read past the end of the file.
    name: 'the file truncated by exactly one page (the last page its newest snapshot names)',
    damage: (file) => {
      const newest = metaPages(file)[newestMeta(file)]!;
      truncateSync(file, newest.lastPage * PAGE);
      return file;
    },
    problem: /truncated: \d+ bytes, but meta page [01] says the data goes on to page \d+/,
  },
  {
    // Walking the older snapshot instead of the newer would miss it; lmdb opens the newer.
    name: 'a page only the newest snapshot reaches, newest in meta page 0',
    damage: (file) => damageNewestOnly(file, 1, 0),
    problem: /page \d+ is damaged: it says it is page \d+/,
  },
  {
    name: 'a page only the newest snapshot reaches, newest in meta page 1',
    damage: (file) => damageNewestOnly(file, 2, 1),
    problem: /page \d+ is damaged: it says it is page \d+/,
  },
  {
    name: 'both meta pages zeroed',
    damage: (file) => zero(file, 0, 2 * PAGE),
    problem: /meta page 0 is damaged/,
  },
  {
    name: 'meta page 1 zeroed',
    damage: (file) => zero(file, PAGE, 2 * PAGE),
    problem: /meta page 1 is damaged/,
  },
  {
    name: 'every data page overwritten with random bytes',
    damage: (file) => {
      const bytes = readFileSync(file);
      randomBytes(bytes.length - 2 * PAGE, 1902).copy(bytes, 2 * PAGE);
      writeFileSync(file, bytes);
      return file;
    },
    problem: /page \d+ is damaged|outside its pages/,
  },
  {
    name: 'the lock file is a directory',
    damage: (file) => {
      rmSync(`${file}-lock`, { force: true });
      mkdirSync(`${file}-lock`);
      return `${file}-lock`;
    },
    problem: /lock file .* is damaged: it is a directory, not a regular file/,
  },
  // A data file that is a directory is a mistake in DB_PATH, not damage: exit 1 with the path to
  // give, never moved aside (test/process/service-start.test.ts).
];

describe('a damaged database at start (built service)', () => {
  let scratch: string;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'accountservice-damage-'));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  for (const [index, kind] of kinds.entries()) {
    it(`${kind.name}: one fatal line naming the file and the problem, exit ${EXIT_DAMAGED}, never a signal`, async (t) => {
      const dataDir = join(scratch, `kind-${index}`);
      const named = await kind.damage(await seededDatabase(dataDir));
      const service = startServiceRaw({ dataDir });
      try {
        const code = await withDeadline(
          service.exited,
          15_000,
          `the service to refuse the file and exit ${EXIT_DAMAGED}`,
        );
        assert.equal(code, EXIT_DAMAGED, `exit ${String(code)}; stderr: ${service.stderr()}`);
        assert.equal(service.url(), undefined, 'it never listened');
        const fatal = service.logs.filter((line) => line.level === 60);
        assert.equal(fatal.length, 1, `exactly one fatal line: ${JSON.stringify(service.logs)}`);
        const message = String(fatal[0]!.msg);
        assert.ok(message.includes(named), `the line names ${named}: ${message}`);
        assert.match(message, kind.problem);
        assert.match(message, /DB_ON_DAMAGE=rebuild/, 'the line says how to rebuild');
        assert.equal(service.stderr(), '', 'nothing on stderr');
        t.diagnostic(`exit ${code}: ${message}`);
      } finally {
        await service.cleanup();
      }
    });
  }

  for (const [index, damaged] of ['every data page', 'the file truncated by exactly one page'].entries()) {
    it(`DB_ON_DAMAGE=rebuild, ${damaged}: moves the damaged file aside (kept as it was), reseeds, and serves`, async (t) => {
      const dataDir = join(scratch, `rebuild-${index}`);
      const file = await seededDatabase(dataDir);
      await kinds.find((kind) => kind.name.startsWith(damaged))!.damage(file);
      const damagedBytes = readFileSync(file);
      const service = await startService({ dataDir, env: { DB_ON_DAMAGE: 'rebuild' } });
      try {
        const account = await fetch(`${service.url}/accounts/10099`);
        assert.equal(account.status, 200);
        assert.equal(await account.text(), seededAccountJson(99));
        assert.equal((await fetch(`${service.url}/health`)).status, 200);

        const aside = readdirSync(dataDir).filter((name) => /^accounts\.mdb\.damaged-/.test(name));
        assert.equal(aside.length, 1, `one file moved aside: ${readdirSync(dataDir).join(', ')}`);
        assert.ok(
          readFileSync(join(dataDir, aside[0]!)).equals(damagedBytes),
          'the damaged file is kept byte for byte',
        );
        const warning = service.logs.find((line) => line.level === 40 && line.movedTo !== undefined);
        assert.ok(warning, 'a warning says what was moved where');
        assert.equal(warning.file, file);
        assert.equal(warning.movedTo, join(dataDir, aside[0]!));
        const seeded = service.logs.find((line) => /^Seeded /.test(String(line.msg ?? '')));
        assert.equal(seeded?.written, 100, 'the new file was seeded from scratch');
        assert.equal(await service.stop('SIGTERM'), 0);
        t.diagnostic(`rebuilt: ${String(warning.msg)}`);
      } finally {
        await service.cleanup();
      }
    });
  }

  it('truncated under the running service: the process dies by a signal (lmdb reads through its map), the next start says why', async (t) => {
    const dataDir = join(scratch, 'live');
    mkdirSync(dataDir);
    const file = join(dataDir, 'accounts.mdb');
    const service = await startService({ dataDir, env: { HEALTH_CHECK_INTERVAL_MS: '100' } });
    let ended: number | string;
    try {
      assert.equal((await fetch(`${service.url}/health`)).status, 200);
      truncateSync(file, 8 * 1024);
      const truncatedAt = Date.now();
      // Lookups read pages that are gone; the health check reads one every 100 ms as well.
      void Promise.allSettled(Array.from({ length: 20 }, (_, i) => fetch(`${service.url}/accounts/${10_000 + i * 5}`)));
      ended = await withDeadline(service.exited, 10_000, 'the service to die of the truncated file');
      const afterMs = Date.now() - truncatedAt;
      t.diagnostic(`the running service ended with ${String(ended)} ${afterMs} ms after the truncation`);
    } finally {
      await service.cleanup();
    }
    const signalled = ended === 'SIGBUS' || ended === 'SIGSEGV';
    assert.ok(signalled, `documented: a signal, not an exit code (got ${String(ended)})`);

    const next = startServiceRaw({ dataDir });
    try {
      assert.equal(await withDeadline(next.exited, 15_000, 'the next start to exit'), EXIT_DAMAGED);
      const fatal = next.logs.filter((line) => line.level === 60);
      assert.equal(fatal.length, 1);
      assert.match(String(fatal[0]!.msg), /accounts\.mdb is damaged: it is truncated: 8192 bytes/);
    } finally {
      await next.cleanup();
    }
  });
});
