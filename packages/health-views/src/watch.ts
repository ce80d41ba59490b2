// Fans events out to live watchers (Server-Sent Events): bounded, with heartbeats, ended with a
// final event on close. Framework-free: a watcher is anything that can take text and end.

import type { Clock, WatchSink } from './types.js';

export interface WatchHub {
  /** Whether one more watcher would be accepted now. */
  readonly hasRoom: boolean;
  /** Adds a watcher after writing it `first`; undefined when full or closed. The function removes it. */
  subscribe(sink: WatchSink, first: string): (() => void) | undefined;
  broadcast(event: string, data: unknown): void;
  readonly size: number;
  /** Ends every stream with a final event; refuses new watchers from then on. */
  close(data: unknown): void;
}

export interface WatchHubOptions {
  readonly maxSubscribers: number;
  readonly heartbeatMs: number;
  readonly clock: Clock;
}

/** One Server-Sent Event; data is JSON on one line, so nothing in it can end the event early. */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function createWatchHub({ maxSubscribers, heartbeatMs, clock }: WatchHubOptions): WatchHub {
  const sinks = new Set<WatchSink>();
  let closed = false;
  let heartbeat: unknown;

  function send(chunk: string): void {
    for (const sink of sinks) {
      try {
        sink.write(chunk);
      } catch {
        sinks.delete(sink); // a broken stream must not stop the others
      }
    }
  }

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
    subscribe(sink, first) {
      if (closed || sinks.size >= maxSubscribers) return undefined;
      sink.write(first);
      sinks.add(sink);
      if (heartbeat === undefined) heartbeat = clock.setTimeout(beat, heartbeatMs);
      return () => {
        sinks.delete(sink);
      };
    },
    broadcast(event, data) {
      if (sinks.size > 0) send(sseEvent(event, data));
    },
    get size() {
      return sinks.size;
    },
    close(data) {
      if (closed) return;
      closed = true;
      if (heartbeat !== undefined) clock.clearTimeout(heartbeat);
      heartbeat = undefined;
      const last = sseEvent('close', data);
      for (const sink of sinks) {
        try {
          sink.write(last);
          sink.end();
        } catch {
          // already gone
        }
      }
      sinks.clear();
    },
  };
}
