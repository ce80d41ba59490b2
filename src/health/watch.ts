// Fans health transitions out to live watchers (/health/watch): bounded, with heartbeats, and
// closed cleanly on shutdown. Framework-free: a watcher is anything that can take text and end.

import type { HealthRegistry } from './health-registry.js';
import { renderTransition } from './render.js';

export interface WatchSink {
  write(chunk: string): void;
  end(): void;
}

export interface WatchHub {
  /** Adds a watcher; undefined when the hub is full or closed. The function removes it. */
  subscribe(sink: WatchSink): (() => void) | undefined;
  readonly size: number;
  /** Ends every stream with a final event; refuses new watchers from then on. */
  close(reason: string): void;
}

export interface WatchHubOptions {
  readonly maxSubscribers: number;
  readonly heartbeatMs: number;
}

/** One Server-Sent Event; data is JSON on one line, so no line in it can end the event early. */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function createWatchHub(registry: HealthRegistry, options: WatchHubOptions): WatchHub {
  const sinks = new Set<WatchSink>();
  let closed = false;
  let unsubscribe: (() => void) | undefined;
  let heartbeat: NodeJS.Timeout | undefined;

  function broadcast(chunk: string): void {
    for (const sink of sinks) {
      try {
        sink.write(chunk);
      } catch {
        sinks.delete(sink); // a broken stream must not stop the others
      }
    }
  }

  function startFeeding(): void {
    unsubscribe = registry.onTransition((t) => broadcast(sseEvent('transition', renderTransition(t))));
    // A comment line keeps proxies from timing the stream out and shows the watcher it is alive.
    heartbeat = setInterval(() => broadcast(': heartbeat\n\n'), options.heartbeatMs).unref();
  }

  function stopFeeding(): void {
    unsubscribe?.();
    unsubscribe = undefined;
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
  }

  return {
    subscribe(sink) {
      if (closed || sinks.size >= options.maxSubscribers) return undefined;
      sinks.add(sink);
      if (sinks.size === 1) startFeeding();
      return () => {
        sinks.delete(sink);
        if (sinks.size === 0) stopFeeding();
      };
    },
    get size() {
      return sinks.size;
    },
    close(reason) {
      closed = true;
      stopFeeding();
      for (const sink of sinks) {
        try {
          sink.write(sseEvent('shutdown', { reason }));
          sink.end();
        } catch {
          // already gone
        }
      }
      sinks.clear();
    },
  };
}
