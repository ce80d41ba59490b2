// Where the service is in its life: starting, serving, shutting down. main.ts and the shutdown
// sequence move it forward; health flags and the HTTP layer follow it.

export type Phase = 'starting' | 'serving' | 'shutting-down';

export interface Lifecycle {
  readonly phase: Phase;
  markServing(): void;
  markShuttingDown(): void;
  /** Called at each change of phase, at the moment it changes (health flags are pushed from here). */
  onChange(listener: (phase: Phase) => void): void;
}

export function createLifecycle(): Lifecycle {
  let phase: Phase = 'starting';
  const listeners: Array<(phase: Phase) => void> = [];
  function moveTo(next: Phase): void {
    if (next === phase) return;
    phase = next;
    for (const listener of listeners) listener(phase);
  }
  return {
    get phase() {
      return phase;
    },
    markServing() {
      if (phase === 'starting') moveTo('serving');
    },
    markShuttingDown() {
      moveTo('shutting-down');
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
