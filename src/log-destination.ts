// Where the service's log lines go: stdout, through a buffer of bounded size. When nothing reads
// stdout (a stalled log driver), lines beyond the buffer are dropped and counted instead of piling
// up in memory, and the event loop never waits for stdout.
//
// This is pino's own destination (sonic-boom, asynchronous) configured, not a new writer: its
// maxLength drops a line that would overflow the buffer and emits 'drop', and it retries a pipe
// that answers EAGAIN every 100 ms from a timer. What is added here is counting, the line that
// says how many were lost once writing resumes, and a bound on the flush at exit.

import { pino } from 'pino';

/** Enough for a few seconds of a busy access log while a log driver restarts. */
export const DEFAULT_LOG_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * At exit, sonic-boom writes what is left synchronously and retries EAGAIN for as long as it
 * takes: with stdout stalled, forever. Past this, the rest is dropped and the process exits.
 */
const EXIT_FLUSH_LIMIT_MS = 500;

export interface LogDestinationOptions {
  /** Most bytes of log lines held while stdout does not take them; more are dropped. */
  readonly maxBufferBytes?: number;
}

export interface LogDestination {
  readonly stream: pino.DestinationStream;
  /** Lines dropped since start because the buffer was full. */
  droppedLines(): number;
  /** Calls listener with the lines dropped since the last call, once writing works again after drops. */
  onResumed(listener: (dropped: number) => void): void;
}

export function createStdoutDestination(options: LogDestinationOptions = {}): LogDestination {
  let exitFlushDeadline: number | undefined;
  // Registered before pino.destination() registers its own exit flush, so it runs first: it
  // bounds the flush, and destroys the stream if stdout still does not take the rest, which makes
  // pino's flush a no-op instead of an endless retry.
  process.once('exit', () => {
    exitFlushDeadline = Date.now() + EXIT_FLUSH_LIMIT_MS;
    try {
      stream.flushSync();
    } catch {
      stream.destroy();
    }
  });
  const stream = pino.destination({
    // process.stdout.fd, as pino's default does, not 1: creating process.stdout makes a pipe
    // non-blocking, so a stalled pipe answers EAGAIN (retried from a timer, and bounded at exit)
    // instead of blocking a libuv thread, and exit, for good.
    dest: process.stdout.fd,
    sync: false,
    maxLength: options.maxBufferBytes ?? DEFAULT_LOG_BUFFER_BYTES,
    retryEAGAIN: () => exitFlushDeadline === undefined || Date.now() < exitFlushDeadline,
  });

  let dropped = 0;
  let unreported = 0;
  const listeners: ((dropped: number) => void)[] = [];
  // pino writes one line per write(), so one 'drop' is one line.
  stream.on('drop', () => {
    dropped += 1;
    unreported += 1;
  });
  stream.on('write', () => {
    if (unreported === 0) return;
    const count = unreported;
    unreported = 0;
    // Not from inside sonic-boom's write callback: a listener logs, which writes to this stream.
    setImmediate(() => {
      for (const listener of listeners) listener(count);
    });
  });

  return {
    stream,
    droppedLines: () => dropped,
    onResumed(listener) {
      listeners.push(listener);
    },
  };
}
