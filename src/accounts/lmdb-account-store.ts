// The LMDB-backed AccountStore: the only module that imports lmdb.
// Accounts are kept as their ready JSON bytes, so a lookup is one memory-mapped read and a copy.

import { closeSync, constants, existsSync, openSync, renameSync, statSync, statfsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { open, type Database, type GetOptions, type RootDatabase } from 'lmdb';
import {
  StoreFullError,
  StoreUnavailableError,
  seedInBatches,
  verifySeedMarker,
  type AccountStore,
  type SeedMarker,
  type SeedOptions,
  type SeedResult,
} from './account-store.js';
import type { AccountSeed } from './seed.js';
import { inspectLmdbFiles, lockFileOf, type LmdbDamage } from './lmdb-preflight.js';

/** Why the database could not be opened: a damaged file, a full disk, or anything else. */
export type StoreOpenFailure = 'damaged' | 'disk-full' | 'other';

/** The database could not be opened at start: the message says where and why. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
  constructor(
    message: string,
    readonly failure: StoreOpenFailure = 'other',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Exit codes of a start that cannot open or seed its database, as README and docs/reliability.md list them. */
export const STORE_EXIT_CODES: Readonly<Record<StoreOpenFailure, number>> = { damaged: 3, 'disk-full': 4, other: 1 };

/**
 * How a start that failed opening or seeding the database ends: its one fatal line and exit code, or
 * undefined for an error that is not about the database.
 */
export function storeStartFailure(error: unknown): { message: string; exitCode: number } | undefined {
  if (error instanceof StoreFullError) return { message: error.message, exitCode: STORE_EXIT_CODES['disk-full'] };
  if (!(error instanceof StoreOpenError)) return undefined;
  const hint = error.failure === 'damaged' ? '; DB_ON_DAMAGE=rebuild moves it aside and rebuilds it from the seed' : '';
  return { message: error.message + hint, exitCode: STORE_EXIT_CODES[error.failure] };
}

/** What open() does with a damaged data or lock file: refuse to open, or move it aside and start afresh. */
export type OnDamage = 'fail' | 'rebuild';

export interface LmdbOpenOptions {
  /** Default 'fail'. 'rebuild' suits data that is all derived from the seed, as here. */
  readonly onDamage?: OnDamage;
  /** Told about each damaged file moved aside by 'rebuild', to log it. */
  readonly onMovedAside?: (moved: MovedAside) => void;
}

export interface MovedAside extends LmdbDamage {
  /** Where the damaged file is now: `<file>.damaged-<time>`, beside it. */
  readonly movedTo: string;
}

const SEED_MARKER_KEY = 'seed';

/**
 * How long lookups share one read transaction (one snapshot of the file). lmdb-js resets its own
 * read transaction on a timer after every millisecond with reads, and the read that renews it costs
 * many times a plain read (bench/programs/store-read.ts): under load one read in several, at a low
 * request rate every one. Sharing one for this long makes that cost rare; in exchange a lookup may
 * answer from the file as it was up to this long ago. Only other processes write while the service
 * serves (its own writes are the seed, before it listens).
 */
export const LOOKUP_SNAPSHOT_MS = 100;

export class LmdbAccountStore implements AccountStore {
  // Tracked here rather than left to lmdb: after close the store answers like the in-memory one,
  // with a clear StoreUnavailableError, and never touches a closed environment.
  private closed = false;
  /** The read transaction lookups share, as read options; undefined until the next lookup begins one. */
  private snapshot: GetOptions | undefined;
  private snapshotEnd: NodeJS.Timeout | undefined;

  /** lmdb's getBinaryFast, with the read options read.js takes as its other reads do (its types leave them out). */
  private readonly getBinaryFast: (key: string, options: GetOptions) => Buffer | undefined;

  private constructor(
    private readonly file: string,
    private readonly root: RootDatabase,
    private readonly accounts: Database<Buffer, string>,
    private readonly meta: Database<SeedMarker, string>,
  ) {
    this.getBinaryFast = accounts.getBinaryFast.bind(accounts);
  }

  /**
   * Opens (creating if needed) the database file at path; its directory must already exist. Checks the
   * files first (see lmdb-preflight.ts): a damaged one is refused, or moved aside with 'rebuild'.
   */
  static open(path: string, options: LmdbOpenOptions = {}): LmdbAccountStore {
    const file = resolve(path);
    const dir = dirname(file);
    if (!existsSync(dir)) {
      throw new StoreOpenError(`cannot open the database at ${file}: the directory ${dir} does not exist`);
    }
    if (!statSync(dir).isDirectory()) {
      throw new StoreOpenError(`cannot open the database at ${file}: ${dir} is not a directory`);
    }
    if (existsSync(file) && statSync(file).isDirectory()) {
      // A mistake in the path, not damage: never moved aside, whatever DB_ON_DAMAGE says.
      throw new StoreOpenError(
        `cannot open the database at ${file}: it is a directory; the path names the database file, e.g. ${join(file, 'accounts.mdb')}`,
      );
    }
    checkFiles(file, options);
    checkFreeSpace(file, dir);
    checkWritable(file, dir);
    try {
      // noSubdir: the path is the data file, with or without an extension (lmdb-js takes a path
      // without one for a directory of its own, and fails on the file the checks above made).
      const root = open({ path: file, noSubdir: true, compression: false, maxDbs: 4 });
      const accounts = root.openDB<Buffer, string>({ name: 'accounts', encoding: 'binary' });
      const meta = root.openDB<SeedMarker, string>({ name: 'meta', encoding: 'json' });
      return new LmdbAccountStore(file, root, accounts, meta);
    } catch (error) {
      const full = diskFullCause(error, dir);
      if (full !== undefined) {
        const message = `the disk is full: cannot create the database at ${file} (${full})`;
        throw new StoreOpenError(message, 'disk-full', { cause: error });
      }
      throw new StoreOpenError(`cannot open the database at ${file}: ${describe(error)}`, 'other', { cause: error });
    }
  }

  getAccountJson(id: string): Uint8Array | undefined {
    this.assertOpen();
    try {
      // getBinaryFast's bytes are lmdb's own buffer, overwritten by the next read: copied at once
      // into a Buffer from Node's pool. getBinary copies too, but into a new ArrayBuffer per read,
      // which under load cost more per request (bench/REPORT.md, the LMDB rung).
      const snapshot = this.snapshot ?? this.beginSnapshot();
      const shared = this.getBinaryFast(id, snapshot);
      if (shared === undefined) return undefined;
      const size = shared.length;
      const bytes = Buffer.allocUnsafe(size);
      bytes.set(new Uint8Array(shared.buffer, shared.byteOffset, size));
      return bytes;
    } catch (error) {
      throw unavailable(error);
    }
  }

  async seed(seed: AccountSeed, options?: SeedOptions): Promise<SeedResult> {
    this.assertOpen();
    try {
      return await seedInBatches(
        {
          // assertOpen on every call: the store may be closed while the seed waits between batches.
          readMarker: () => (this.assertOpen(), this.meta.get(SEED_MARKER_KEY)),
          read: (id) => (this.assertOpen(), this.accounts.getBinary(id)),
          write: (entries, marker) => {
            this.assertOpen();
            // One write transaction per batch: a crash leaves whole batches, and the marker only
            // after the last one, so check() tells a complete seed from a part of one.
            this.root.transactionSync(() => {
              for (const [id, bytes] of entries) this.accounts.putSync(id, bytes as Buffer);
              if (marker === null) this.meta.removeSync(SEED_MARKER_KEY);
              else if (marker !== undefined) this.meta.putSync(SEED_MARKER_KEY, marker);
            });
            // The next lookup sees what was just written.
            this.endSnapshot();
          },
          count: () => (this.assertOpen(), this.entryCount()),
        },
        seed,
        options,
      );
    } catch (error) {
      if (error instanceof StoreUnavailableError || options?.signal?.aborted) throw error;
      throw this.writeFailure(error);
    }
  }

  async count(): Promise<number> {
    this.assertOpen();
    try {
      return this.entryCount();
    } catch (error) {
      throw unavailable(error);
    }
  }

  async check(): Promise<void> {
    this.assertOpen();
    try {
      verifySeedMarker(this.meta.get(SEED_MARKER_KEY), (id) => this.accounts.getBinary(id) !== undefined);
    } catch (error) {
      // verifySeedMarker's own verdicts pass as they are; a failed read is wrapped like any other.
      throw error instanceof StoreUnavailableError ? error : unavailable(error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.endSnapshot();
    await this.root.close();
  }

  /** A read transaction for the lookups of the next LOOKUP_SNAPSHOT_MS. */
  private beginSnapshot(): GetOptions {
    const snapshot = { transaction: this.root.useReadTransaction() };
    this.snapshot = snapshot;
    this.snapshotEnd = setTimeout(() => this.endSnapshot(), LOOKUP_SNAPSHOT_MS);
    // Never the reason the process stays alive.
    this.snapshotEnd.unref();
    return snapshot;
  }

  private endSnapshot(): void {
    clearTimeout(this.snapshotEnd);
    this.snapshot?.transaction?.done();
    this.snapshot = undefined;
  }

  /** From the database's own statistics: getCount() would read (and map) every page of the file. */
  private entryCount(): number {
    return (this.accounts.getStats() as { entryCount: number }).entryCount;
  }

  /** A failed write on a full disk reads as a full disk, not as an I/O error or failing hardware. */
  private writeFailure(error: unknown): StoreUnavailableError {
    const full = diskFullCause(error, dirname(this.file));
    if (full === undefined) return unavailable(error);
    const message = `the disk is full: cannot write the database at ${this.file} (${full})`;
    return new StoreFullError(message, { cause: error });
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the account store is closed');
  }
}

/**
 * lmdb maps its lock file and writes into the mapping: on a file system with no room left to back
 * those pages, the first write is a SIGBUS, not an error. So a (nearly) full one is refused first.
 */
function checkFreeSpace(file: string, dir: string): void {
  const free = freeBytes(dir);
  if (free !== undefined && free < MIN_FREE_BYTES_TO_OPEN) {
    throw new StoreOpenError(
      `the disk is full: cannot open the database at ${file}: ${free} bytes free on its file system, ` +
        `less than the ${MIN_FREE_BYTES_TO_OPEN} it needs to open`,
      'disk-full',
    );
  }
}

function freeBytes(dir: string): number | undefined {
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize;
  } catch {
    return undefined;
  }
}

/** Room for the lock file lmdb creates (a few pages), two new meta pages, and a margin. */
const MIN_FREE_BYTES_TO_OPEN = 64 * 1024;

/**
 * Opens the lock file and the data file for writing, creating them as LMDB would, before lmdb
 * does: when LMDB cannot open one of them (a directory the user cannot write, so no lock file; a
 * file owned by another user; a read-only file system), lmdb-js frees its environment twice on
 * the way out and the process dies of SIGSEGV with no word.
 */
function checkWritable(file: string, dir: string): void {
  const uid = process.getuid?.();
  const user = uid === undefined ? 'this user' : `this user (uid ${uid})`;
  for (const [path, what] of [
    [lockFileOf(file), 'its lock file'],
    [file, 'the data file'],
  ] as const) {
    const existed = existsSync(path);
    try {
      closeSync(openSync(path, constants.O_RDWR | constants.O_CREAT, LMDB_FILE_MODE));
    } catch (error) {
      const fix = existed ? `make ${path} writable for ${user}` : `make ${dir} writable for ${user}`;
      throw new StoreOpenError(
        `cannot open the database at ${file}: ${user} cannot ${existed ? 'open' : 'create'} ${what} ${path} ` +
          `for writing (${errorCode(error)}), and LMDB needs both files writable: ${fix}`,
        'other',
        { cause: error },
      );
    }
  }
}

/** The mode lmdb-js creates its files with (rw-rw-r--, before the umask). */
const LMDB_FILE_MODE = 0o664;

/** "EACCES: permission denied" from Node's "EACCES: permission denied, open '<path>'" (the path is said already). */
function errorCode(error: unknown): string {
  return describe(error).replace(/, open '.*'$/, '');
}

/** Runs the preflight; with 'rebuild', moves each damaged file aside until none is left. */
function checkFiles(file: string, options: LmdbOpenOptions): void {
  // At most the data file and its lock file can be moved aside; a third finding means moving failed.
  for (let attempt = 0; attempt < 3; attempt++) {
    let damage: LmdbDamage | undefined;
    try {
      damage = inspectLmdbFiles(file);
    } catch (error) {
      throw new StoreOpenError(`cannot open the database at ${file}: ${describe(error)}`, 'other', { cause: error });
    }
    if (damage === undefined) return;
    const damaged = `the database ${damage.kind} ${damage.file} is damaged: ${damage.problem}`;
    if (options.onDamage !== 'rebuild' || attempt === 2) throw new StoreOpenError(damaged, 'damaged');
    const movedTo = `${damage.file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(damage.file, movedTo);
    } catch (error) {
      const message = `${damaged}; it could not be moved aside: ${describe(error)}`;
      throw new StoreOpenError(message, 'damaged', { cause: error });
    }
    options.onMovedAside?.({ ...damage, movedTo });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function unavailable(error: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`the database cannot be read: ${describe(error)}`, { cause: error });
}

// errno values as lmdb reports them in error.code, and LMDB's own MDB_MAP_FULL.
const ENOSPC = 28;
const EDQUOT = 122;
const EIO = 5;
const MDB_MAP_FULL = -30792;
/** Below this much free space, a short write (which LMDB reports as EIO) is taken for a full disk. */
const NEARLY_FULL_BYTES = 1024 * 1024;

/**
 * Why a failed write means a full disk, or undefined when it does not. LMDB reports a write cut short
 * by a full disk as EIO, the code of failing hardware, so an EIO counts only when the file system
 * really has (almost) no room left.
 */
export function diskFullCause(error: unknown, dir: string): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === ENOSPC || code === 'ENOSPC') return 'ENOSPC: no space left on device';
  if (code === EDQUOT || code === 'EDQUOT') return 'EDQUOT: disk quota exceeded';
  if (code === MDB_MAP_FULL) return 'MDB_MAP_FULL: the database reached its map size';
  if (code !== EIO && code !== 'EIO') return undefined;
  const free = freeBytes(dir);
  return free !== undefined && free < NEARLY_FULL_BYTES
    ? `a write was cut short with ${free} bytes left on the file system`
    : undefined;
}
