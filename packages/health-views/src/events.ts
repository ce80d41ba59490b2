// Where events go the moment they happen: a bounded ring of recent ones (history), the listeners,
// and the watch hub. A listener's failure changes nothing for the others or for the registry.

import type { HealthEvent } from './types.js';
import type { WatchHub } from './watch.js';

export interface EventLog {
  emit(event: HealthEvent): void;
  on(listener: (event: HealthEvent) => void): () => void;
  /** Oldest first. */
  history(): HealthEvent[];
}

export function createEventLog(size: number, hub: WatchHub | undefined): EventLog {
  const listeners = new Set<(event: HealthEvent) => void>();
  const ring: HealthEvent[] = [];
  let next = 0; // where the next event goes once the ring is full

  return {
    emit(event) {
      if (size > 0) {
        if (ring.length < size) ring.push(event);
        else ring[next] = event;
        next = (next + 1) % size;
      }
      hub?.broadcast(event.type, event);
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // A listener's failure must not change what the registry reports.
        }
      }
    },
    on(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    history() {
      return ring.length < size ? [...ring] : [...ring.slice(next), ...ring.slice(0, next)];
    },
  };
}
