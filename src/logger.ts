// The service's pino logger: JSON lines by default, pretty only when LOG_PRETTY asks for it.

import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly pretty: boolean;
}

const REDACT = ['req.headers.authorization', 'headers.authorization', 'token'];

export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, redact: REDACT, base: { service: 'accountservice' } };
  if (options.pretty && prettyAvailable()) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(base);
}

function prettyAvailable(): boolean {
  try {
    // pino-pretty is a development dependency: the production image logs JSON whatever is asked.
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
