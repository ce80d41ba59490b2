// Fans events out to live watchers (Server-Sent Events): bounded in number and in the bytes each
// may have waiting, with heartbeats, ended with a final event on close. Framework-free: a watcher
// is anything that can take text, say how much of it waits, and end.

import { iso } from './clock.js';
import { createListeners, type Listeners } from './events.js';
import type { Clock, WatchSink, WatcherDropped } from './types.js';

export interface WatchHub {
  /** Whether one more watcher would be accepted now. */
  readonly hasRoom: boolean;
  /** Whether close() has ended the streams: no watcher is taken again. */
  readonly closed: boolean;
  /** Adds a watcher after writing it `first`; undefined when full or closed. The function removes it. */
  subscribe(sink: WatchSink, first: string): (() => void) | undefined;
  broadcast(event: string, data: unknown): void;
  /** Ends every stream with a final event; refuses new watchers from then on. */
  close(data: unknown): void;
  /** Hears of every watcher cut off (too far behind, or broken); returns the unsubscribe function. */
  onDropped(listener: (dropped: WatcherDropped) => void): () => void;
}

export interface WatchHubOptions {
  readonly maxSubscribers: number;
  readonly heartbeatMs: number;
  /** A watcher with more than this waiting when the next chunk comes is cut off instead. */
  readonly maxQueuedBytes: number;
  readonly clock: Clock;
}

/** What an adapter's response is to the hub: a Node writable stream, named by shape only. */
export interface WritableResponse {
  write(chunk: string): unknown;
  end(): unknown;
  destroy(): unknown;
  readonly writableLength: number;
}

/** The sink for a Node writable (a node:http response): what both adapters stream to. */
export function writableSink(response: WritableResponse): WatchSink {
  return {
    write: (chunk) => void response.write(chunk),
    get queuedBytes() {
      return response.writableLength;
    },
    end: () => void response.end(),
    destroy: () => void response.destroy(),
  };
}

/** One Server-Sent Event; data is JSON on one line, so nothing in it can end the event early. */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function createWatchHub({ maxSubscribers, heartbeatMs, maxQueuedBytes, clock }: WatchHubOptions): WatchHub {
  const dropped = createListeners<WatcherDropped>();
  const { sinks, deliver, send } = createWatchers(maxQueuedBytes, clock, dropped);
  let closed = false;
  let heartbeat: unknown;

  function beat(): void {
    heartbeat = undefined;
    if (sinks.size === 0 || closed) return;
    send(': heartbeat\n\n');
    heartbeat = clock.setTimeout(beat, heartbeatMs);
  }

  return {
    get hasRoom() {
      return !closed && sinks.size < maxSubscribers;
    },
    get closed() {
      return closed;
    },
    subscribe(sink, first) {
      if (closed || sinks.size >= maxSubscribers) return undefined;
      sinks.add(sink);
      if (!deliver(sink, first, Buffer.byteLength(first))) return undefined;
      if (heartbeat === undefined) heartbeat = clock.setTimeout(beat, heartbeatMs);
      return () => {
        sinks.delete(sink);
      };
    },
    broadcast(event, data) {
      if (sinks.size > 0) send(sseEvent(event, data));
    },
    close(data) {
      if (closed) return;
      closed = true;
      if (heartbeat !== undefined) clock.clearTimeout(heartbeat);
      heartbeat = undefined;
      const last = sseEvent('close', data);
      const size = Buffer.byteLength(last);
      for (const sink of sinks) {
        if (!deliver(sink, last, size)) continue;
        try {
          sink.end();
        } catch {
          // already gone
        }
      }
      sinks.clear();
    },
    onDropped: dropped.add,
  };
}

/**
 * The open watchers, and writing to them: a watcher that falls too far behind, or whose stream
 * breaks, is cut off and the `dropped` listeners are told.
 */
function createWatchers(maxQueuedBytes: number, clock: Clock, dropped: Listeners<WatcherDropped>) {
  const sinks = new Set<WatchSink>();

  function drop(sink: WatchSink, reason: WatcherDropped['reason'], queuedBytes: number): void {
    sinks.delete(sink);
    try {
      sink.destroy(); // what it had waiting goes with it
    } catch {
      // already gone
    }
    dropped.tell({ reason, queuedBytes, maxQueuedBytes, watchers: sinks.size, at: iso(clock.now()) });
  }

  /**
   * Writes chunk to one watcher, or cuts it off when the chunk would leave it more than
   * maxQueuedBytes behind: a watcher that stops reading must not hold the process's memory.
   * A watcher with nothing waiting takes any chunk, so one large event never drops a reader.
   */
  function deliver(sink: WatchSink, chunk: string, size: number): boolean {
    let queued = 0;
    try {
      queued = sink.queuedBytes;
      if (queued > 0 && queued + size > maxQueuedBytes) {
        drop(sink, 'behind', queued);
        return false;
      }
      sink.write(chunk);
      return true;
    } catch {
      drop(sink, 'failed', queued); // a broken stream must not stop the others
      return false;
    }
  }

  function send(chunk: string): void {
    const size = Buffer.byteLength(chunk);
    for (const sink of sinks) deliver(sink, chunk, size);
  }

  return { sinks, deliver, send };
}
