// The public surface of the graceful shutdown (lifecycle.ts), in one place like types.ts: its
// options, its events, and the servers it stops, described by shape so that no HTTP module is
// imported (a node:http or https Server, or what Express and Koa's listen() return, fits).

import type { Clock, Health } from './types.js';

/** What the shutdown needs of a response: to say `connection: close` and to know when it is over. */
export interface ShutdownResponse {
  readonly headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/** What the shutdown needs of a request: the connection it came on, to end it after its answer. */
export interface ShutdownRequest {
  readonly socket: { readonly destroyed: boolean; end(): unknown };
}

/** A node:http or https server (Node >= 18.2), by the members the shutdown uses. */
export interface HttpServerLike {
  readonly listening: boolean;
  close(callback?: (error?: Error) => void): unknown;
  closeIdleConnections(): void;
  closeAllConnections(): void;
  prependListener(event: 'request', listener: (request: ShutdownRequest, response: ShutdownResponse) => void): unknown;
  removeListener(event: 'request', listener: (request: ShutdownRequest, response: ShutdownResponse) => void): unknown;
}

/**
 * Something that closes itself, e.g. a Fastify app (`app.close()` runs its onClose hooks). With its
 * `server` given, that server's answers say `connection: close` from the first signal on, and its
 * busy connections end after their answer, as for an `HttpServerLike`.
 */
export interface ClosableServer {
  close(): PromiseLike<unknown>;
  readonly server?: HttpServerLike;
}

/** A cleanup hook: a function, or one with a name (in events) and a timeout of its own. */
export type CleanupHook =
  | ((signal: AbortSignal) => unknown)
  | {
      readonly name: string;
      /** May return a promise; its signal aborts at the timeout. */
      readonly run: (signal: AbortSignal) => unknown;
      /** Default: the shutdown's `hookTimeoutMs`. */
      readonly timeoutMs?: number;
    };

export interface ShutdownOptions<H extends Health = Health> {
  /** Set at the first signal; closed (timers stop, watch streams end) as the servers begin to close. */
  readonly health: H;
  /**
   * The flag check set to `true` at the first signal, so every view holding it turns DOWN at once:
   * define it with `healthyWhen: false` (e.g. `{ name: 'draining', kind: 'flag', healthyWhen: false }`).
   * Typed by the registry's own flag names: literals when `createHealth` inferred them.
   */
  readonly flag?: Parameters<H['flag']>[0];
  /** Stopped after the drain delay, all at once: they stop accepting, idle connections end, in-flight requests finish. */
  readonly servers?: readonly (HttpServerLike | ClosableServer)[];
  /** Run in order once the servers are closed, each bounded by its timeout; a failure is reported and the next runs. */
  readonly cleanup?: readonly CleanupHook[];
  /** The signals that begin the shutdown. Default `['SIGTERM', 'SIGINT']`; `[]` for none (call `begin()`). */
  readonly signals?: readonly NodeJS.Signals[];
  /** From the first signal to the servers' close, so load balancers see readiness DOWN. Default 3000. */
  readonly drainDelayMs?: number;
  /** No drain delay when this view is already DOWN at the first signal: nothing routes here any more. */
  readonly skipDrainWhenDown?: Parameters<H['view']>[0];
  /** Time for closing and cleanup after the drain; past drain + timeout it exits 1. Default 5000. */
  readonly timeoutMs?: number;
  /** A cleanup hook's own bound, unless the hook gives one. Default 2000. */
  readonly hookTimeoutMs?: number;
  /** Called at every step, synchronously (a logger, metrics); what it throws is ignored. */
  readonly onEvent?: (event: ShutdownEvent) => void;
  /** Default `process.exit`. */
  readonly exit?: (code: number) => void;
  /** Default: the system clock. */
  readonly clock?: Clock;
}

/** Where the shutdown is. */
export type ShutdownPhase = 'serving' | 'draining' | 'closing' | 'cleanup' | 'exited';

/** Why it exits: `done` is the only clean one (code 0); the others exit 1. */
export type ExitReason = 'done' | 'failed' | 'deadline' | 'repeated';

interface Timed {
  /** Since the first signal (or `begin()`). */
  readonly elapsedMs: number;
}

export type ShutdownEvent =
  /** A signal came, or `begin()` was called; `repeated`: not the first, so it exits at once. */
  | (Timed & { readonly type: 'signal'; readonly reason: string; readonly repeated: boolean })
  /** Readiness is DOWN (the flag is set); the drain delay begins. `skippedFor`: the view that was already DOWN. */
  | (Timed & {
      readonly type: 'draining';
      readonly reason: string;
      readonly drainDelayMs: number;
      readonly skippedFor?: string;
    })
  /** The servers stop accepting; in-flight requests finish. */
  | (Timed & { readonly type: 'closing'; readonly servers: number })
  /** `health.close()` was called: check timers stopped, watch streams ended. */
  | (Timed & { readonly type: 'health-closed' })
  /** Every server has closed, or failed to (`errors`). */
  | (Timed & { readonly type: 'servers-closed'; readonly errors: readonly unknown[] })
  /** One cleanup hook ended. */
  | (Timed & {
      readonly type: 'cleanup';
      readonly name: string;
      readonly outcome: 'done' | 'failed' | 'timed-out';
      readonly durationMs: number;
      readonly error?: unknown;
    })
  /** `exit` is called next. `deadlineMs`: the bound that passed, with reason `deadline`. */
  | (Timed & { readonly type: 'exit'; readonly code: 0 | 1; readonly reason: ExitReason; readonly deadlineMs: number });

export interface Shutdown {
  /**
   * Begins the shutdown as a signal would (`reason`: e.g. the signal's name, or "deploy"); a second
   * call, like a second signal, exits 1 at once.
   */
  begin(reason: string): void;
  readonly phase: ShutdownPhase;
  /** Removes the signal handlers and the servers' request listener without shutting down. */
  dispose(): void;
}
