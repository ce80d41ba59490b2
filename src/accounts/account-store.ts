// The storage contract every account store keeps, the seeding both stores share, and an in-memory
// store for tests and demos.

import { setImmediate as nextTurn } from 'node:timers/promises';
import { encodeAccount } from './account.js';
import type { AccountSeed } from './seed.js';

/** The store cannot answer right now (closed, unreadable, timed out): the HTTP layer answers 503. */
export class StoreUnavailableError extends Error {
  override readonly name: string = 'StoreUnavailableError';
}

/** A write failed because the disk (or the quota, or the database's map) is full. */
export class StoreFullError extends StoreUnavailableError {
  override readonly name = 'StoreFullError';
}

export interface SeedResult {
  /** Accounts in this seed. */
  readonly seeded: number;
  /** Of those, the ones that were missing or different and so were written; 0 when already seeded. */
  readonly written: number;
  /** Accounts in the store after the seed. */
  readonly total: number;
}

export interface SeedOptions {
  /** Aborting stops the seed between two batches: seed() rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Accounts read, compared and written per transaction; defaults to SEED_BATCH_SIZE. */
  readonly batchSize?: number;
}

/** Bounds the memory a seed holds at once, whatever its size, and how long one transaction blocks. */
export const SEED_BATCH_SIZE = 10_000;

export interface AccountStore {
  /**
   * The account's JSON bytes, ready to send, or undefined when there is no such account; throws (or
   * rejects with) StoreUnavailableError when the store cannot answer. A store that reads
   * synchronously (LMDB, memory) answers at once, with no promise per lookup; one that must wait
   * returns a promise, and the HTTP route puts a deadline on it.
   */
  getAccountJson(id: string): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /**
   * Makes the store hold every account of the seed, writing only those missing or different, in
   * batches. The seed marker names a complete seed only: it is removed with the first write and
   * written last (with the last batch, in its transaction), so after a crash or an abort check()
   * says "not seeded" until a seed completes.
   */
  seed(seed: AccountSeed, options?: SeedOptions): Promise<SeedResult>;
  count(): Promise<number>;
  /** A real read of stored data; rejects with the cause when the store cannot be read. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** Written when a seed completes, so a health check can read back something it knows must be there. */
export interface SeedMarker {
  readonly count: number;
  readonly firstId: string | null;
  /** AccountSeed.contentId; absent in markers written before it existed. */
  readonly contentId?: string;
}

export function seedMarkerOf(seed: AccountSeed): SeedMarker {
  return { count: seed.count, firstId: seed.firstId, contentId: seed.contentId };
}

function sameSeed(a: SeedMarker, b: SeedMarker): boolean {
  return a.count === b.count && a.firstId === b.firstId && a.contentId === b.contentId;
}

/** Shared by the stores' check(): the marker must exist and name an account that is really there. */
export function verifySeedMarker(marker: SeedMarker | undefined, has: (id: string) => boolean): void {
  if (marker === undefined) throw new StoreUnavailableError('the store has not been seeded');
  if (marker.firstId !== null && !has(marker.firstId)) {
    throw new StoreUnavailableError(`seeded account ${marker.firstId} cannot be read back`);
  }
}

/** What seeding needs from a store: synchronous reads and one atomic write per batch. */
export interface SeedTarget {
  readMarker(): SeedMarker | undefined;
  /** The stored bytes of an account, or undefined when it is missing. */
  read(id: string): Uint8Array | undefined;
  /** Writes the entries and, when given, the marker (null: removes it) in one atomic transaction. */
  write(entries: readonly (readonly [string, Uint8Array])[], marker?: SeedMarker | null): void;
  count(): number;
}

/** The seeding both stores run: see AccountStore.seed. */
export async function seedInBatches(
  target: SeedTarget,
  seed: AccountSeed,
  options: SeedOptions = {},
): Promise<SeedResult> {
  const { signal, batchSize = SEED_BATCH_SIZE } = options;
  signal?.throwIfAborted();
  const wanted = seedMarkerOf(seed);
  const stored = target.readMarker();
  // The marker is written only once every account of its seed is stored, and nothing else writes
  // accounts: the same marker means nothing is missing, and a restart reads and writes nothing more.
  if (stored !== undefined && sameSeed(stored, wanted)) {
    return { seeded: seed.count, written: 0, total: target.count() };
  }
  // Any write means the stored accounts were not this seed yet: a marker must not vouch for them
  // until the last batch is written, so it goes with the first write.
  let markerToRemove = stored !== undefined;
  let written = 0;
  let batch: (readonly [string, Uint8Array])[] = [];
  let inBatch = 0;
  const flush = (): void => {
    if (batch.length > 0) {
      target.write(batch, markerToRemove ? null : undefined);
      markerToRemove = false;
      written += batch.length;
    }
    batch = [];
    inBatch = 0;
  };
  for (const account of seed) {
    const bytes = encodeAccount(account);
    const existing = target.read(account.id);
    if (existing === undefined || Buffer.compare(existing, bytes) !== 0) batch.push([account.id, bytes]);
    if (++inBatch >= batchSize) {
      flush();
      // A turn of the event loop between batches, so a signal handler can run and abort.
      await nextTurn();
      signal?.throwIfAborted();
    }
  }
  // The last batch and the marker in one transaction: the marker still comes after every account
  // of its seed (atomically with the last of them), and a fresh seed costs one synced write, not two.
  target.write(batch, wanted);
  written += batch.length;
  return { seeded: seed.count, written, total: target.count() };
}

/** Keeps the encoded accounts in a Map; the same contract as the LMDB store. */
export class InMemoryAccountStore implements AccountStore {
  private readonly accounts = new Map<string, Uint8Array>();
  private seedMarker: SeedMarker | undefined;
  private closed = false;

  getAccountJson(id: string): Uint8Array | undefined {
    this.assertOpen();
    return this.accounts.get(id);
  }

  async seed(seed: AccountSeed, options?: SeedOptions): Promise<SeedResult> {
    this.assertOpen();
    return seedInBatches(
      {
        readMarker: () => (this.assertOpen(), this.seedMarker),
        read: (id) => (this.assertOpen(), this.accounts.get(id)),
        write: (entries, marker) => {
          this.assertOpen();
          for (const [id, bytes] of entries) this.accounts.set(id, bytes);
          if (marker !== undefined) this.seedMarker = marker ?? undefined;
        },
        count: () => this.accounts.size,
      },
      seed,
      options,
    );
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
