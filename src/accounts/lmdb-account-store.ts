// The LMDB-backed AccountStore: the only module that imports lmdb.
// Accounts are kept as their ready JSON bytes, so a lookup is one memory-mapped read and a copy.

import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { encodeAccount, type Account } from './account.js';
import {
  StoreUnavailableError,
  seedMarkerOf,
  verifySeedMarker,
  type AccountStore,
  type SeedMarker,
  type SeedResult,
} from './account-store.js';

/** The database could not be opened at start: the message says where and why. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

const SEED_MARKER_KEY = 'seed';

export class LmdbAccountStore implements AccountStore {
  // Tracked here rather than left to lmdb: after close the store answers like the in-memory one,
  // with a clear StoreUnavailableError, and never touches a closed environment.
  private closed = false;

  private constructor(
    private readonly root: RootDatabase,
    private readonly accounts: Database<Buffer, string>,
    private readonly meta: Database<SeedMarker, string>,
  ) {}

  /** Opens (creating if needed) the database file at path; its directory must already exist. */
  static open(path: string): LmdbAccountStore {
    const file = resolve(path);
    const dir = dirname(file);
    if (!existsSync(dir)) {
      throw new StoreOpenError(`cannot open the database at ${file}: the directory ${dir} does not exist`);
    }
    if (!statSync(dir).isDirectory()) {
      throw new StoreOpenError(`cannot open the database at ${file}: ${dir} is not a directory`);
    }
    try {
      const root = open({ path: file, compression: false, maxDbs: 4 });
      const accounts = root.openDB<Buffer, string>({ name: 'accounts', encoding: 'binary' });
      const meta = root.openDB<SeedMarker, string>({ name: 'meta', encoding: 'json' });
      return new LmdbAccountStore(root, accounts, meta);
    } catch (error) {
      throw new StoreOpenError(`cannot open the database at ${file}: ${describe(error)}`);
    }
  }

  async getAccountJson(id: string): Promise<Uint8Array | undefined> {
    this.assertOpen();
    try {
      return this.accounts.getBinary(id);
    } catch (error) {
      throw unavailable(error);
    }
  }

  async seed(accounts: readonly Account[]): Promise<SeedResult> {
    this.assertOpen();
    try {
      // One write transaction: a crash part-way leaves the previous state, never half a seed.
      this.root.transactionSync(() => {
        for (const account of accounts) this.accounts.putSync(account.id, encodeAccount(account));
        this.meta.putSync(SEED_MARKER_KEY, seedMarkerOf(accounts));
      });
      return { seeded: accounts.length, total: this.accounts.getCount() };
    } catch (error) {
      throw unavailable(error);
    }
  }

  async count(): Promise<number> {
    this.assertOpen();
    try {
      return this.accounts.getCount();
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
    await this.root.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the account store is closed');
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function unavailable(error: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`the database cannot be read: ${describe(error)}`, { cause: error });
}
