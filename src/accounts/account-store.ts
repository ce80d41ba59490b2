// The storage contract every account store keeps, and an in-memory store for tests and demos.

import { encodeAccount, type Account } from './account.js';

/** The store cannot answer right now (closed, unreadable, timed out): the HTTP layer answers 503. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

export interface SeedResult {
  /** Accounts written by this seed (the seed always rewrites all of them, in one transaction). */
  readonly seeded: number;
  /** Accounts in the store after the seed. */
  readonly total: number;
}

export interface AccountStore {
  /** The account's JSON bytes, ready to send, or undefined when there is no such account. */
  getAccountJson(id: string): Promise<Uint8Array | undefined>;
  /** Writes the accounts atomically: after a crash either all of them are there or none of this seed. */
  seed(accounts: readonly Account[]): Promise<SeedResult>;
  count(): Promise<number>;
  /** A real read of stored data; rejects with the cause when the store cannot be read. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** Written with every seed, so a health check can read back something it knows must be there. */
export interface SeedMarker {
  readonly count: number;
  readonly firstId: string | null;
}

export function seedMarkerOf(accounts: readonly Account[]): SeedMarker {
  return { count: accounts.length, firstId: accounts[0]?.id ?? null };
}

/** Shared by the stores' check(): the marker must exist and name an account that is really there. */
export function verifySeedMarker(marker: SeedMarker | undefined, has: (id: string) => boolean): void {
  if (marker === undefined) throw new StoreUnavailableError('the store has not been seeded');
  if (marker.firstId !== null && !has(marker.firstId)) {
    throw new StoreUnavailableError(`seeded account ${marker.firstId} cannot be read back`);
  }
}

/** Keeps the encoded accounts in a Map; the same contract as the LMDB store. */
export class InMemoryAccountStore implements AccountStore {
  private readonly accounts = new Map<string, Uint8Array>();
  private seedMarker: SeedMarker | undefined;
  private closed = false;

  async getAccountJson(id: string): Promise<Uint8Array | undefined> {
    this.assertOpen();
    return this.accounts.get(id);
  }

  async seed(accounts: readonly Account[]): Promise<SeedResult> {
    this.assertOpen();
    for (const account of accounts) this.accounts.set(account.id, encodeAccount(account));
    this.seedMarker = seedMarkerOf(accounts);
    return { seeded: accounts.length, total: this.accounts.size };
  }

  async count(): Promise<number> {
    this.assertOpen();
    return this.accounts.size;
  }

  async check(): Promise<void> {
    this.assertOpen();
    verifySeedMarker(this.seedMarker, (id) => this.accounts.has(id));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the account store is closed');
  }
}
