// Start-up as a list of named steps run in order by one runner: it logs each step as it begins,
// stops between steps once the start's signal has aborted, and closes what the steps opened, in
// reverse order, when a step fails or the start is stopped.

import type { Logger } from 'pino';

/** The start-up phases, in order; each is logged as it begins ("start-up: seeding"). */
export type StartPhase = 'opening the database' | 'seeding' | 'first checks' | 'building the app' | 'listening';

/** Thrown by start() when its signal aborts it between phases (or seeding between batches). */
export class StartAborted extends Error {
  override readonly name = 'StartAborted';
}

export interface StartStep {
  readonly phase: StartPhase;
  /** The phase's work. What it opens it hands to OpenedParts.add, to be closed on failure. */
  run(signal: AbortSignal | undefined): Promise<void> | void;
}

/** What the start has opened so far, closed in the reverse order of opening, once. */
export interface OpenedParts {
  /** A part just opened, and how to close it. Added once closing has begun, it is closed at once. */
  add(close: () => Promise<void> | void): void;
  /** Closes every part added, the last first; each is closed even when one before it failed. */
  closeAll(): Promise<void>;
}

export function createOpenedParts(): OpenedParts {
  const closers: (() => Promise<void> | void)[] = [];
  let closing: Promise<void> | undefined;
  async function closeInReverse(): Promise<void> {
    let failure: { error: unknown } | undefined;
    while (closers.length > 0) {
      try {
        await closers.pop()!();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }
  return {
    add(close) {
      closers.push(close);
      // Opened after closing began (a close() while a step ran): closed once the others are.
      if (closing !== undefined) closing = closing.then(closeInReverse, closeInReverse);
    },
    closeAll() {
      closing ??= closeInReverse();
      return closing;
    },
  };
}

export interface StartRun {
  readonly signal: AbortSignal | undefined;
  readonly logger: Pick<Logger, 'info'>;
  /** Told each phase as it begins, before its log line. */
  readonly entered: (phase: StartPhase) => void;
  /** Called after each phase's log line; the run waits for it, then stops if the signal aborted meanwhile. */
  readonly onPhase?: ((phase: StartPhase, signal: AbortSignal | undefined) => Promise<void> | void) | undefined;
}

/**
 * Runs the steps in order. A failure or an abort closes what they opened (the start's own error is
 * the one thrown), so a stopped start leaves nothing open, whoever called it.
 */
export async function runStartUp(steps: readonly StartStep[], opened: OpenedParts, run: StartRun): Promise<void> {
  try {
    for (const step of steps) {
      await enter(step.phase, run);
      await step.run(run.signal);
    }
  } catch (error) {
    await opened.closeAll().catch(() => {});
    throw error;
  }
}

/**
 * Logs the phase as it begins. A signal handler runs from the event loop: the turn before each
 * phase lets a signal that came during synchronous work be seen before the next phase starts.
 */
async function enter(phase: StartPhase, { signal, logger, entered, onPhase }: StartRun): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (signal?.aborted) throw new StartAborted();
  entered(phase);
  logger.info({ phase }, `start-up: ${phase}`);
  if (onPhase !== undefined) {
    await onPhase(phase, signal);
    if (signal?.aborted) throw new StartAborted();
  }
}
