// The exact answer of GET /accounts/{id} for a seeded account, as this machine's service sends it.

import { hostname, networkInterfaces } from 'node:os';
import { servedByAddress } from '../../src/accounts/served-by.js';

/** What a service on this machine names in `servedBy` when SERVED_BY is not set. */
export const SERVED_BY_HERE = servedByAddress(networkInterfaces(), hostname());

/** The body for seeded account number i (id 10000 + i), as served by servedBy. */
export function seededAccountJson(i: number, servedBy = SERVED_BY_HERE): string {
  return `{"id":"${10_000 + i}","name":"Person_${i}","servedBy":${JSON.stringify(servedBy)}}`;
}
