// The service's pino logger: JSON lines by default, pretty only when LOG_PRETTY asks for it.

import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.js';
import { createStdoutDestination, type LogDestination } from './log-destination.js';

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly pretty: boolean;
}

const REDACT = ['req.headers.authorization', 'headers.authorization', 'token'];

export interface Loggers {
  /** The service's own lines: start-up, health changes, warnings, errors. Each is written at once. */
  readonly logger: Logger;
  /**
   * The access lines, one per answered request, at the same level and in the same JSON as the
   * logger's: gathered through the event-loop turn and written in one write at its end (see
   * log-destination.ts). With LOG_PRETTY, the logger itself.
   */
  readonly accessLogger: Logger;
}

/**
 * JSON lines go to stdout through destination (a bounded buffer: see log-destination.ts), which
 * main.ts creates so the metrics can count what it dropped.
 */
export function createLoggers(options: LoggerOptions, destination?: LogDestination): Loggers {
  const base = { level: options.level, redact: REDACT, base: { service: 'accountservice' } };
  const pretty = options.pretty ? prettyStream() : undefined;
  if (pretty !== undefined) {
    const logger = pino(base, pretty);
    return { logger, accessLogger: logger };
  }
  const output = destination ?? createStdoutDestination();
  const logger = pino(base, output.stream);
  output.onResumed((dropped) => {
    logger.warn({ droppedLines: dropped }, `dropped ${dropped} log lines while stdout was blocked`);
  });
  return { logger, accessLogger: pino(base, output.accessStream) };
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
