// TCP connect to host:port: UP once the connection is established, which is then closed at once.
// It proves the dependency's listener is there and accepting (a database, a broker, a cache)
// without speaking its protocol. The socket is destroyed however the attempt ends, the abort
// included, so a dependency that never answers leaves nothing open behind its runs.

import { abortReason, describeConnectError, hostPort } from './network.js';
import {
  checkOptionNames,
  definePolledCheck,
  numberOption,
  requiredString,
  type BuiltInCheck,
  type BuiltInCheckOptions,
} from './options.js';

export interface TcpCheckOptions<Name extends string = string> extends BuiltInCheckOptions<Name> {
  /** A host name or an IP address. */
  readonly host: string;
  readonly port: number;
}

const DEFAULTS = { name: 'tcp', intervalMs: 5000, timeoutMs: 2000, publicCause: 'a TCP dependency cannot be reached' };

/** DOWN when the connection is refused, the host name does not resolve, or no answer comes within the timeout. */
export function tcpCheck<const Name extends string = 'tcp'>(options: TcpCheckOptions<Name>): BuiltInCheck<Name> {
  const where = checkOptionNames('tcpCheck', options, ['host', 'port']);
  requiredString(where, 'host', options.host);
  if (options.port === undefined) throw new Error(`${where}: port is required`);
  numberOption(where, 'port', options.port, { min: 1, max: 65_535, whole: true });
  const { host, port } = options;
  return definePolledCheck(options, DEFAULTS, (signal) => connectOnce(host, port, signal));
}

/** Resolves once connected, rejects with the cause; either way the socket is destroyed first. */
async function connectOnce(host: string, port: number, signal: AbortSignal): Promise<void> {
  // Loaded at the first run, as the http check loads node:http: importing the package loads no socket module.
  const { connect } = await import('node:net');
  const target = hostPort(host, port);
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error(`connecting to ${target}: ${abortReason(signal)}`));
      return;
    }
    const socket = connect({ host, port });
    const finish = (error?: Error): void => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = (): void => finish(new Error(`connecting to ${target}: ${abortReason(signal)}`));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish());
    socket.on('error', (error) => finish(new Error(describeConnectError(error, host, target))));
  });
}
