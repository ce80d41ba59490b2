// One run of a polled check: its outcome mapped to a result, bounded by a timeout that aborts the
// check's signal, single flight (askers meanwhile share the run), and a hung run never restarted
// until it settles (a new run would pile more work on a dependency that is already stuck).

import type { Clock } from './types.js';

export interface RunResult {
  readonly ok: boolean;
  /** Detail of a failure (exception text, timeout): for details only. */
  readonly cause?: string;
  readonly durationMs: number;
}

export interface Runner {
  /** Starts a run, or joins the one under way. Undefined when it was decided synchronously, or stopped. */
  run(): Promise<void> | undefined;
  /**
   * Ends the run under way, if any (its signal aborts, its timer is cleared, what it returns later
   * is ignored) and refuses new runs: after close() nothing of a check is running or armed.
   */
  stop(reason: string): void;
}

export interface RunnerOptions {
  readonly check: (signal: AbortSignal) => unknown;
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly onResult: (result: RunResult) => void;
}

type Finish = (ok: boolean, cause?: string) => void;

export function createRunner({ check, timeoutMs, clock, onResult }: RunnerOptions): Runner {
  let running: Promise<void> | undefined;
  let hungSince: number | undefined;
  let stopped = false;
  let cancel: ((reason: string) => void) | undefined;

  function run(): Promise<void> | undefined {
    if (stopped) return undefined;
    if (running) return running;
    const startedAt = clock.now();
    if (hungSince !== undefined) {
      onResult({ ok: false, cause: `the run started ${startedAt - hungSince} ms ago has not returned`, durationMs: 0 });
      return undefined;
    }
    const controller = new AbortController();
    const finish: Finish = (ok, cause) =>
      onResult({ ok, ...(cause === undefined ? {} : { cause }), durationMs: clock.now() - startedAt });
    const called = call(check, controller.signal);
    if (called.pending === undefined) {
      finish(called.ok, called.cause);
      return undefined;
    }
    running = awaitOutcome(called.pending, controller, startedAt, finish);
    return running;
  }

  /** Waits for a run's promise, at most timeoutMs; the first of settle, timeout or stop decides. */
  function awaitOutcome(
    pending: PromiseLike<unknown>,
    controller: AbortController,
    startedAt: number,
    finish: Finish,
  ): Promise<void> {
    return new Promise<void>((resolve) => {
      let settled = false;
      const end = (record: () => void): void => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        cancel = undefined;
        record();
        running = undefined;
        resolve();
      };
      const settle: Finish = (ok, cause) => end(() => finish(ok, cause));
      const timer = clock.setTimeout(() => {
        hungSince = startedAt;
        controller.abort(new Error(`timed out after ${timeoutMs} ms`));
        settle(false, `timed out after ${timeoutMs} ms`);
      }, timeoutMs);
      cancel = (reason) => end(() => controller.abort(new Error(reason)));
      // However late it settles, a hung run may be followed by a new one again.
      const returned = (ok: boolean, cause?: string): void => {
        settle(ok, cause);
        if (hungSince === startedAt) hungSince = undefined;
      };
      Promise.resolve(pending).then(
        (value) => returned(value !== false, value === false ? 'resolved to false' : undefined),
        (error: unknown) => returned(false, causeOf(error)),
      );
    });
  }

  return {
    run,
    stop(reason) {
      stopped = true;
      cancel?.(reason);
    },
  };
}

/** Calls the check: what it decided at once (a throw, or a value that is no promise), or its promise. */
function call(
  check: (signal: AbortSignal) => unknown,
  signal: AbortSignal,
):
  | { readonly pending: PromiseLike<unknown> }
  | { readonly pending?: undefined; readonly ok: boolean; readonly cause?: string } {
  let outcome: unknown;
  try {
    outcome = check(signal);
  } catch (error) {
    return { ok: false, cause: causeOf(error) };
  }
  // A synchronous answer is recorded at once: no promise, no timer.
  if (isThenable(outcome)) return { pending: outcome };
  return outcome === false ? { ok: false, cause: 'returned false' } : { ok: true };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function causeOf(error: unknown): string {
  if (error instanceof Error && error.message !== '') return error.message;
  if (typeof error === 'string' && error !== '') return error;
  return 'failed without a message';
}
