// Where the service's log lines go: stdout, through a buffer of bounded size, written by this
// process itself.
//
// Access lines, one per answered request, are gathered through the event-loop turn they are
// logged in and go out together in one write at its end, as pino users do at scale (pino's
// asynchronous logging, sonic-boom's minLength), but flushed every turn rather than by size, so no
// line waits longer than the turn that logged it. Every other line (start-up, warnings, errors,
// fatal) is written at once, after the access lines gathered before it, so the order holds. Hence
// a process killed outright (SIGKILL) loses at most the access lines of the turn it was in; every
// exit that runs JavaScript (process.exit, a graceful stop, an uncaught exception) writes them first.
//
// When nothing reads stdout (a stalled log driver), lines beyond the buffer are dropped and
// counted instead of piling up in memory, the event loop never waits for stdout (a pipe is
// non-blocking: it answers EAGAIN, retried from a timer), and the flush at exit is bounded.

import { writeSync } from 'node:fs';
import type { DestinationStream } from 'pino';
import { DEFAULT_LOG_BUFFER_BYTES } from '../config.js';

/** At exit, how long a stalled stdout is waited for before the rest of the buffer is dropped. */
const EXIT_FLUSH_LIMIT_MS = 500;

/** How soon stdout is tried again after it answered EAGAIN (as sonic-boom does). */
const RETRY_MS = 100;

export interface LogDestinationOptions {
  /** Most bytes of log lines held while stdout does not take them; more are dropped. */
  readonly maxBufferBytes?: number;
  /** Where the lines go; default stdout's descriptor. */
  readonly fd?: number;
}

/** pino's destination, with the flush pino's logger.flush() calls. */
export interface FlushableStream extends DestinationStream {
  flush(callback: () => void): void;
}

export interface LogDestination {
  /** Lines written at once, after any access lines gathered before them. */
  readonly stream: FlushableStream;
  /** Access lines: written together at the end of the event-loop turn that logged them. */
  readonly accessStream: DestinationStream;
  /** Lines dropped since start because the buffer was full or stdout failed. */
  droppedLines(): number;
  /** Calls listener with the lines dropped since the last call, once writing works again after drops. */
  onResumed(listener: (dropped: number) => void): void;
}

export function createStdoutDestination(options: LogDestinationOptions = {}): LogDestination {
  // process.stdout.fd, not 1: creating process.stdout makes a pipe non-blocking, so a stalled pipe
  // answers EAGAIN (retried from a timer, and bounded at exit) instead of blocking the event loop.
  const writer = new BufferedLineWriter(
    options.fd ?? process.stdout.fd,
    options.maxBufferBytes ?? DEFAULT_LOG_BUFFER_BYTES,
  );
  process.once('exit', () => writer.flushAtExit(EXIT_FLUSH_LIMIT_MS));
  return {
    stream: {
      write: (line: string) => writer.writeNow(line),
      flush: (callback: () => void) => {
        writer.flush();
        process.nextTick(callback);
      },
    },
    accessStream: { write: (line: string) => writer.writeAtEndOfTurn(line) },
    droppedLines: () => writer.dropped,
    onResumed: (listener) => writer.resumedListeners.push(listener),
  };
}

/** Why a write stopped: all held bytes are written, or stdout takes no more for now. */
type WriteOutcome = 'written' | 'stalled';

/** The lines held for stdout, in order, and the writes that empty them. */
class BufferedLineWriter {
  dropped = 0;
  readonly resumedListeners: ((dropped: number) => void)[] = [];
  /** Lines held, oldest first. */
  private lines: string[] = [];
  /** The bytes of a write stdout took only part of: they go out before lines. */
  private rest: Buffer | undefined;
  /**
   * What rest and lines hold, against the bound: bytes of rest, characters of lines (a byte each for
   * the ASCII JSON lines nearly always are; counting characters spares measuring every line in UTF-8).
   */
  private held = 0;
  /** Drops not yet told to the resumed listeners. */
  private unreported = 0;
  private endOfTurnQueued = false;
  /** Set while stdout refuses writes: it writes what is held once it fires. */
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly fd: number,
    private readonly maxBytes: number,
  ) {}

  writeAtEndOfTurn(line: string): void {
    if (!this.hold(line) || this.endOfTurnQueued || this.retry !== undefined) return;
    this.endOfTurnQueued = true;
    setImmediate(this.endOfTurn);
  }

  writeNow(line: string): void {
    this.hold(line);
    this.flush();
  }

  /** Writes everything held, unless stdout is stalled (then the retry timer will). */
  flush(): void {
    if (this.retry !== undefined || this.held === 0) return;
    if (this.writeHeld() === 'stalled') {
      this.retry = setTimeout(this.retryNow, RETRY_MS);
      // Never the reason the process stays alive: the flush at exit has the last word.
      this.retry.unref();
    }
  }

  /** At exit, synchronously: whatever stdout takes within limitMs; the rest is dropped. */
  flushAtExit(limitMs: number): void {
    clearTimeout(this.retry);
    this.retry = undefined;
    const deadline = Date.now() + limitMs;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (this.held > 0 && this.writeHeld() === 'stalled' && Date.now() < deadline) Atomics.wait(pause, 0, 0, 1);
  }

  private readonly endOfTurn = (): void => {
    this.endOfTurnQueued = false;
    this.flush();
  };

  private readonly retryNow = (): void => {
    this.retry = undefined;
    this.flush();
  };

  /** Adds the line to those held, or drops and counts it when the buffer has no room. */
  private hold(line: string): boolean {
    if (this.held + line.length > this.maxBytes) {
      this.countDropped(1);
      return false;
    }
    this.lines.push(line);
    this.held += line.length;
    return true;
  }

  /** One write of everything held (more only when stdout takes part of it). */
  private writeHeld(): WriteOutcome {
    const lineCount = this.lines.length;
    const joined = this.lines.join('');
    this.lines = [];
    let data: string | Buffer = this.rest === undefined ? joined : Buffer.concat([this.rest, Buffer.from(joined)]);
    this.rest = undefined;
    let remaining = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    while (remaining > 0) {
      let written: number;
      try {
        written = typeof data === 'string' ? writeSync(this.fd, data) : writeSync(this.fd, data);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return this.lose(lineCount);
        this.rest = typeof data === 'string' ? Buffer.from(data) : data;
        this.held = remaining;
        return 'stalled';
      }
      remaining -= written;
      if (remaining > 0) data = (typeof data === 'string' ? Buffer.from(data) : data).subarray(written);
    }
    this.held = 0;
    this.tellResumed();
    return 'written';
  }

  /** stdout failed for good (closed, EPIPE): what was held is dropped and counted, never thrown. */
  private lose(lineCount: number): WriteOutcome {
    this.held = 0;
    this.countDropped(Math.max(lineCount, 1));
    return 'written';
  }

  private countDropped(lines: number): void {
    this.dropped += lines;
    this.unreported += lines;
  }

  private tellResumed(): void {
    if (this.unreported === 0 || this.resumedListeners.length === 0) return;
    const count = this.unreported;
    this.unreported = 0;
    // Not from inside this write: a listener logs, which writes here.
    setImmediate(() => {
      for (const listener of this.resumedListeners) listener(count);
    });
  }
}
