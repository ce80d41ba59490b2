// The causes of a failed connection, shared by the tcp and http checks: a DNS failure, a refusal
// and anything else each read differently, because each sends an operator somewhere else.

import { codeOf, messageOf } from './options.js';

/** getaddrinfo's failures: the name did not resolve, so no connection was even tried. */
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);

/** `host:port`, with an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function describeConnectError(error: unknown, host: string, target: string): string {
  const code = codeOf(error);
  if (code !== undefined && DNS_CODES.has(code)) return `DNS lookup of ${host} failed (${code})`;
  if (code === 'ECONNREFUSED') return `connection to ${target} refused (ECONNREFUSED)`;
  return `connecting to ${target} failed: ${messageOf(error)}`;
}

/** Why the signal aborted (the registry's timeout says "timed out after N ms"). */
export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason === undefined ? 'aborted' : messageOf(reason);
}
