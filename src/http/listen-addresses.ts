// Before anything opens: each listener's host is resolved and its address and port are tried, so a
// name that does not resolve, an address that is not this machine's or a port in use stops the
// start with one line naming the setting, instead of an error after the database was opened and
// seeded that names neither. node:dns and node:net only.

import { lookup } from 'node:dns/promises';
import { createServer, isIP } from 'node:net';
import type { Config } from '../config.js';

/** A name that has not resolved by then will not: the start does not wait for it longer. */
export const LOOKUP_TIMEOUT_MS = 5000;

interface Listener {
  readonly hostSetting: 'HOST' | 'METRICS_HOST';
  readonly host: string;
  readonly portSetting: 'PORT' | 'METRICS_PORT';
  readonly port: number;
}

/** One problem per listener that cannot listen where its settings say, each naming the setting. */
export async function checkListenAddresses(config: Config): Promise<string[]> {
  const listeners: Listener[] = [{ hostSetting: 'HOST', host: config.host, portSetting: 'PORT', port: config.port }];
  const { metrics } = config;
  if (metrics.enabled && metrics.port !== undefined) {
    listeners.push({
      hostSetting: 'METRICS_HOST',
      host: metrics.host,
      portSetting: 'METRICS_PORT',
      port: metrics.port,
    });
  }
  const problems: string[] = [];
  for (const listener of listeners) {
    const problem = await checkListener(listener);
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}

async function checkListener(listener: Listener): Promise<string | undefined> {
  const { hostSetting, host } = listener;
  let address: string;
  try {
    address = await resolve(host, LOOKUP_TIMEOUT_MS);
  } catch (error) {
    return (
      `${hostSetting} ${host} does not resolve to an address (${codeOf(error)}): give an address of this ` +
      'machine, such as 0.0.0.0, 127.0.0.1 or ::, or a name that resolves to one'
    );
  }
  try {
    await tryListening(address, listener.port);
    return undefined;
  } catch (error) {
    return listenProblem(listener, address, error);
  }
}

/** The address Node's listen() would bind for host: an IP as it is, a name's first address. */
async function resolve(host: string, timeoutMs: number): Promise<string> {
  if (isIP(host) !== 0) return host;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('timed out'), { code: `no answer in ${timeoutMs} ms` })),
      timeoutMs,
    );
  });
  try {
    return (await Promise.race([lookup(host), timedOut])).address;
  } finally {
    clearTimeout(timer);
  }
}

/** Listens on address:port and closes at once: what the real listen will meet, found before it. */
function tryListening(address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, address, () => server.close(() => resolve()));
  });
}

function listenProblem({ hostSetting, host, portSetting, port }: Listener, address: string, error: unknown): string {
  const code = codeOf(error);
  const where = host === address ? host : `${host} (${address})`;
  switch (code) {
    case 'EADDRINUSE':
      return `${portSetting} ${port} is already in use on ${where} (EADDRINUSE): stop what listens there, or choose another port`;
    case 'EADDRNOTAVAIL':
      return `${hostSetting} ${where} is not an address of this machine (EADDRNOTAVAIL): use one of its addresses, or 0.0.0.0 for all`;
    case 'EACCES':
      return `${portSetting} ${port} needs a privilege this process lacks (EACCES): use a port above 1023, or grant CAP_NET_BIND_SERVICE`;
    case 'EAFNOSUPPORT':
      return `${hostSetting} ${where}: this machine has no network of that address family (EAFNOSUPPORT)`;
    default:
      return `cannot listen on ${hostSetting} ${where}, ${portSetting} ${port} (${code})`;
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : String(error);
}
