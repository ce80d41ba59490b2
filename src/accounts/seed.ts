// Deterministic fake accounts, as the original seeds them: ids from 10000, names Person_0, Person_1, ...

import type { Account } from './account.js';

export const FIRST_SEED_ID = 10_000;

export function seedAccounts(count: number): Account[] {
  const accounts: Account[] = [];
  for (let i = 0; i < count; i++) {
    accounts.push({ id: String(FIRST_SEED_ID + i), name: `Person_${i}` });
  }
  return accounts;
}
