// Deterministic fake accounts, as the original seeds them: ids from 10000, names Person_0, Person_1, ...
// Generated lazily, one at a time, so seeding a million accounts never holds a million in memory.

import { createHash } from 'node:crypto';
import type { Account } from './account.js';

export const FIRST_SEED_ID = 10_000;

/**
 * The accounts one seed writes: known in size and first id before any is generated, so a store can
 * tell from its seed marker whether this seed is already complete, and iterable as often as needed.
 */
export interface AccountSeed extends Iterable<Account> {
  readonly count: number;
  /** The id of the first account, or null for an empty seed. */
  readonly firstId: string | null;
  /** Names the contents: two seeds with the same count, first id and contentId hold the same accounts. */
  readonly contentId: string;
}

export function seedAccounts(count: number): AccountSeed {
  return {
    count,
    firstId: count > 0 ? String(FIRST_SEED_ID) : null,
    // Change it whenever the generated accounts change, or stores seeded before would keep the old ones.
    contentId: 'Person_N from 10000, v1',
    *[Symbol.iterator]() {
      for (let i = 0; i < count; i++) yield { id: String(FIRST_SEED_ID + i), name: `Person_${i}` };
    },
  };
}

/** A seed of the given accounts, for tests and tools that seed something other than the fake accounts. */
export function seedOf(accounts: readonly Account[]): AccountSeed {
  return {
    count: accounts.length,
    firstId: accounts[0]?.id ?? null,
    contentId: createHash('sha256').update(JSON.stringify(accounts)).digest('base64url'),
    [Symbol.iterator]: () => accounts[Symbol.iterator](),
  };
}
