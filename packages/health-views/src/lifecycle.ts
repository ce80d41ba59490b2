// The graceful shutdown, in one call: stop signals -> readiness DOWN -> drain delay -> servers stop
// (idle connections end, in-flight requests finish) -> cleanup hooks, each bounded -> exit 0.
// Past drain + timeout it exits 1; a second signal exits 1 at once. Every step is an event.
//
// It exits with a code rather than re-raising the signal (terminus' way): as PID 1, which is how a
// container runs a Node service, a signal with no handler is dropped, and the process would hang.

import { resolveShutdownOptions, type ResolvedHook, type ResolvedShutdownOptions } from './lifecycle-options.js';
import { createServerStopper, type ServerStopper } from './lifecycle-servers.js';
import { holdProcessOpen } from './scheduler.js';
import type { ExitReason, Health, Shutdown, ShutdownEvent, ShutdownOptions, ShutdownPhase } from './types.js';

/** Events without the time since the first signal, which emit() adds. */
type Untimed<E> = E extends unknown ? Omit<E, 'elapsedMs'> : never;

/**
 * Installs the signal handlers at once (as PID 1 a signal without one is lost) and returns the
 * handle; nothing else happens until the first signal or `begin()`.
 */
export function createShutdown<H extends Health>(options: ShutdownOptions<H>): Shutdown {
  const settings = resolveShutdownOptions(options);
  const stoppers = settings.servers.map(createServerStopper);
  const signals = [...new Set(settings.signals)]; // a signal listed twice must not count as two
  const onSignal = (signal: NodeJS.Signals): void => sequence.begin(signal);
  function dispose(): void {
    for (const signal of signals) process.removeListener(signal, onSignal);
    for (const stopper of stoppers) stopper.detach();
  }
  const sequence = createSequence(settings, stoppers, dispose);
  for (const signal of signals) process.on(signal, onSignal);
  return {
    begin: (reason) => sequence.begin(reason),
    get phase() {
      return sequence.phase;
    },
    dispose,
  };
}

/** What the steps of one shutdown share. */
interface Steps {
  readonly settings: ResolvedShutdownOptions;
  readonly stoppers: readonly ServerStopper[];
  readonly emit: (event: Untimed<ShutdownEvent>) => void;
  readonly exit: (code: 0 | 1, reason: ExitReason) => void;
  readonly enter: (phase: 'closing' | 'cleanup') => void;
  /** Whether exit was called (by the deadline or a second signal) while a step awaited. */
  readonly exited: () => boolean;
  /** The cleanup hook running now: exit aborts its signal and clears its timer. */
  readonly hook: { stop?: (reason: ExitReason) => void };
}

/** One shutdown: begun once, exited once; `onExit` runs just before the exit. */
function createSequence(
  settings: ResolvedShutdownOptions,
  stoppers: readonly ServerStopper[],
  onExit: () => void,
): Pick<Shutdown, 'begin' | 'phase'> {
  const { clock } = settings;
  let phase: ShutdownPhase = 'serving';
  let startedAt = 0;
  let deadlineMs = 0;
  let deadline: unknown;
  let keepAlive: (() => void) | undefined;

  const steps: Steps = {
    settings,
    stoppers,
    emit: (event) => {
      if (phase === 'exited' && event.type !== 'exit') return; // exit is the last event
      try {
        settings.onEvent({ ...event, elapsedMs: clock.now() - startedAt });
      } catch {
        // A logger's failure must not stop the shutdown.
      }
    },
    exit: (code, reason) => {
      if (phase === 'exited') return;
      phase = 'exited';
      clock.clearTimeout(deadline);
      keepAlive?.();
      steps.hook.stop?.(reason);
      onExit();
      steps.emit({ type: 'exit', code, reason, deadlineMs });
      settings.exit(code);
    },
    enter: (next) => void (phase = next),
    exited: () => phase === 'exited',
    hook: {},
  };

  function begin(reason: string): void {
    if (phase === 'exited') return;
    if (phase !== 'serving') {
      steps.emit({ type: 'signal', reason, repeated: true });
      steps.exit(1, 'repeated');
      return;
    }
    phase = 'draining';
    startedAt = clock.now();
    steps.emit({ type: 'signal', reason, repeated: false });
    const skippedFor = viewToSkipFor(settings);
    const drainDelayMs = skippedFor === undefined ? settings.drainDelayMs : 0;
    deadlineMs = drainDelayMs + settings.timeoutMs;
    deadline = clock.setTimeout(() => {
      for (const stopper of stoppers) stopper.forceClose();
      steps.exit(1, 'deadline');
    }, deadlineMs);
    // The clock's timers do not hold the process open; with nothing else left (no server, say) it
    // would end by itself mid-sequence, with code 0 and no cleanup. This holds it up to the deadline.
    keepAlive = holdProcessOpen(deadlineMs + 1000);
    settings.flag?.set(true, `shutting down (${reason})`);
    for (const stopper of stoppers) stopper.drain();
    steps.emit({ type: 'draining', reason, drainDelayMs, ...(skippedFor === undefined ? {} : { skippedFor }) });
    closeAndClean(steps, drainDelayMs, reason).catch(() => steps.exit(1, 'failed'));
  }

  return {
    begin,
    get phase() {
      return phase;
    },
  };
}

/** The view named to skip the drain, when it is DOWN and there is a drain to skip. */
function viewToSkipFor({ skipDrainWhenDown: view, drainDelayMs, health }: ResolvedShutdownOptions): string | undefined {
  // Judged before the flag is set: the flag may be in that view too.
  return view !== undefined && drainDelayMs > 0 && health.view(view)?.status === 'DOWN' ? view : undefined;
}

/** After the drain: health closed, servers closed, cleanup hooks, exit. */
async function closeAndClean(steps: Steps, drainDelayMs: number, reason: string): Promise<void> {
  const { settings, stoppers, emit } = steps;
  if (drainDelayMs > 0) await new Promise<void>((resolve) => settings.clock.setTimeout(resolve, drainDelayMs));
  if (steps.exited()) return;
  steps.enter('closing');
  emit({ type: 'closing', servers: stoppers.length });
  // Before the servers: a watch stream is an answer that never ends (close would wait for it to
  // the deadline), and checks must not run against what the cleanup hooks are about to close.
  let failed = !closeHealth(settings.health, reason, emit);
  const errors = await closeServers(stoppers);
  if (steps.exited()) return;
  emit({ type: 'servers-closed', errors });
  failed ||= errors.length > 0;
  steps.enter('cleanup');
  for (const hook of settings.cleanup) {
    const done = await runHook(hook, steps);
    if (steps.exited()) return;
    failed ||= !done;
  }
  steps.exit(failed ? 1 : 0, failed ? 'failed' : 'done');
}

function closeHealth(health: Health, reason: string, emit: (event: Untimed<ShutdownEvent>) => void): boolean {
  try {
    health.close(`shutting down (${reason})`);
  } catch {
    return false;
  }
  emit({ type: 'health-closed' });
  return true;
}

/** Closes them all at once; resolves with what each that failed threw. */
async function closeServers(stoppers: readonly ServerStopper[]): Promise<unknown[]> {
  const results = await Promise.allSettled(stoppers.map((stopper) => stopper.close()));
  return results.flatMap((result): unknown[] => (result.status === 'rejected' ? [result.reason as unknown] : []));
}

/**
 * Runs one hook within its timeout (its signal aborts then, or when the shutdown exits first: the
 * deadline or a second signal); true when it finished without error.
 */
async function runHook(hook: ResolvedHook, steps: Steps): Promise<boolean> {
  const { clock } = steps.settings;
  const startedAt = clock.now();
  const controller = new AbortController();
  let timer: unknown;
  const timedOut = new Promise<'timed-out'>((resolve) => {
    timer = clock.setTimeout(() => resolve('timed-out'), hook.timeoutMs);
  });
  steps.hook.stop = (reason) => {
    clock.clearTimeout(timer);
    controller.abort(new Error(`cleanup "${hook.name}" cut short: the shutdown exited (${reason})`));
  };
  let outcome: 'done' | 'failed' | 'timed-out';
  let error: unknown;
  try {
    // then(): a hook that throws synchronously is a failure like one that rejects.
    const ran = Promise.resolve().then(() => hook.run(controller.signal));
    outcome = await Promise.race([ran.then(() => 'done' as const), timedOut]);
  } catch (thrown) {
    outcome = 'failed';
    error = thrown;
  }
  steps.hook.stop = undefined;
  clock.clearTimeout(timer);
  if (outcome === 'timed-out') {
    controller.abort(new Error(`cleanup "${hook.name}" timed out after ${hook.timeoutMs} ms`));
  }
  const durationMs = clock.now() - startedAt;
  steps.emit({ type: 'cleanup', name: hook.name, outcome, durationMs, ...(error === undefined ? {} : { error }) });
  return outcome === 'done';
}
