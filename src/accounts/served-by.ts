// The `servedBy` field of an account answer, as the Go original sends it: the address of the
// instance that answered, which is how the series shows Swarm balancing over replicas.

import type { NetworkInterfaceInfo } from 'node:os';

/** The first non-loopback IPv4 address, else the hostname: worked out once, at start. */
export function servedByAddress(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>, hostname: string): string {
  for (const addresses of Object.values(interfaces)) {
    const found = addresses?.find((address) => address.family === 'IPv4' && !address.internal);
    if (found !== undefined) return found.address;
  }
  return hostname;
}

/**
 * The bytes that close every answer: `,"servedBy":"..."}`. Stored accounts are ready JSON objects,
 * so a lookup swaps their closing brace for this suffix instead of parsing and re-serialising.
 */
export function servedBySuffix(servedBy: string): Buffer {
  return Buffer.from(`,${JSON.stringify('servedBy')}:${JSON.stringify(servedBy)}}`, 'utf8');
}

/** The stored account JSON with the suffix in place of its closing brace. */
export function withServedBy(accountJson: Uint8Array, suffix: Buffer): Buffer {
  const bodyLength = accountJson.length - 1;
  const answer = Buffer.allocUnsafe(bodyLength + suffix.length);
  answer.set(accountJson.subarray(0, bodyLength), 0);
  suffix.copy(answer, bodyLength);
  return answer;
}
