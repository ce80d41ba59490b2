// Where the service is in its life: starting, serving, shutting down. Health checks and the
// HTTP layer read it; main.ts and the shutdown sequence move it forward.

export type Phase = 'starting' | 'serving' | 'shutting-down';

export interface Lifecycle {
  readonly phase: Phase;
  markServing(): void;
  markShuttingDown(): void;
}

export function createLifecycle(): Lifecycle {
  let phase: Phase = 'starting';
  return {
    get phase() {
      return phase;
    },
    markServing() {
      if (phase === 'starting') phase = 'serving';
    },
    markShuttingDown() {
      phase = 'shutting-down';
    },
  };
}
