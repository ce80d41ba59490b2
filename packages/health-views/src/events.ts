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
  const listeners = createListeners<HealthEvent>();
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
      listeners.tell(event);
    },
    on: listeners.add,
    history() {
      return ring.length < size ? [...ring] : [...ring.slice(next), ...ring.slice(0, next)];
    },
  };
}

/** The host's listeners of one kind of news (events, dropped watchers), told in the order they came. */
export interface Listeners<T> {
  /** Returns the function that removes the listener. */
  readonly add: (listener: (news: T) => void) => () => void;
  readonly tell: (news: T) => void;
}

export function createListeners<T>(): Listeners<T> {
  const listeners = new Set<(news: T) => void>();
  return {
    add(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    tell(news) {
      for (const listener of listeners) {
        try {
          listener(news);
        } catch {
          // A listener's failure must not keep the others from hearing, nor change what the registry reports.
        }
      }
    },
  };
}
