// The log lines of a connection guard, the same words on every listener, so one search finds them.

import type { Logger } from 'pino';
import type { ConnectionGuardOptions } from './connection-guard.js';

/**
 * onOverflow and onRefused for a listener: `port` names it in both lines, and `limit` says what
 * sets its connection limit (a setting's name, or "the metrics port takes").
 */
export function guardLogging(
  logger: Pick<Logger, 'warn'>,
  { port, maxConnections, limit }: { port: 'service' | 'metrics'; maxConnections: number; limit: string },
): Pick<ConnectionGuardOptions, 'onOverflow' | 'onRefused'> {
  return {
    onOverflow: (socket, queued) =>
      logger.warn(
        { port, remoteAddress: socket.remoteAddress, queued: queued.responses, queuedBytes: queued.bytes },
        'closed a connection that does not read its answers',
      ),
    onRefused: (refused) =>
      logger.warn(
        { port, refused, maxConnections },
        `refused ${refused} connection${refused === 1 ? '' : 's'}${port === 'metrics' ? ' to the metrics port' : ''}: ` +
          `${maxConnections} are open, the most ${limit}`,
      ),
  };
}
