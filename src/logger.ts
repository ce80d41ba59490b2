// The service's pino logger: JSON lines by default, pretty only when LOG_PRETTY asks for it.

import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly pretty: boolean;
}

const REDACT = ['req.headers.authorization', 'headers.authorization', 'token'];

export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, redact: REDACT, base: { service: 'accountservice' } };
  const pretty = options.pretty ? prettyStream() : undefined;
  return pretty === undefined ? pino(base) : pino(base, pretty);
}

/**
 * pino-pretty as a stream in this thread, not as a pino transport: a transport starts a worker
 * from a file next to pino's own, which the bundled build (dist/accountservice.cjs) does not have.
 * Pretty output is for a developer's terminal, where formatting in-thread costs nothing that matters.
 */
function prettyStream(): DestinationStream | undefined {
  let pretty: (options: Record<string, unknown>) => DestinationStream;
  try {
    // pino-pretty is a development dependency: the production image logs JSON whatever is asked.
    pretty = createRequire(import.meta.url)('pino-pretty') as typeof pretty;
  } catch {
    return undefined;
  }
  return pretty({ translateTime: 'SYS:HH:MM:ss.l', sync: true });
}
