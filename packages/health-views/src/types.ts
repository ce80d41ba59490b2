// The whole public surface of the package's root entry in one file: what a check is, what a view
// is, what the registry reports, what the HTTP adapters accept, and the graceful shutdown's
// options and events. Every other module implements these types. (The other entries' types are
// beside their code: health-views/checks in src/checks/, /fastify, /express and /koa in theirs.)
//
// Vocabulary:
// - a check is a named source of UP/DOWN results: polled (a function run on its own timer) or a
//   flag (a value the service sets when something happens: started, shutting down, a switch);
// - a view is a named, routed selection of checks with its own policy per check (e.g. /health for
//   Swarm turns DOWN only after the database has failed for 30 s; /health/ready reacts at once);
// - an event is a change: a check's status (under its own policy) or a view's overall status.

import type { IncomingMessage, ServerResponse } from 'node:http';

/** A check's status. UNKNOWN: no result yet, or the last one is too old to be evidence. */
export type CheckStatus = 'UP' | 'DOWN' | 'UNKNOWN';

/** A view's overall status. WARN: every critical check is UP but a non-critical one is not (still 200). */
export type ViewStatus = 'UP' | 'WARN' | 'DOWN';

/** Time as the package sees it: injected, so tests drive it by hand instead of sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs fn once after ms; the timer must not keep the process alive on its own. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * How results turn into a status (the damping rules of state.ts). A check defines its own; a view
 * may override any of them for that check alone.
 */
export interface CheckPolicy {
  /**
   * Consecutive failures before an UP check turns DOWN. Default 1 (none when only failureGraceMs is
   * set). `Infinity`, with failureGraceMs beside it: time alone decides, whatever the check's own count
   * (how a view waits longer than the check does).
   */
  readonly failureThreshold?: number;
  /** Or: time failing after which an UP check turns DOWN whatever the count. Default: off. */
  readonly failureGraceMs?: number;
  /** Consecutive successes before a DOWN check turns UP again. Default 1. */
  readonly successThreshold?: number;
}

interface CheckBase<Name extends string> extends CheckPolicy {
  /** Letters, digits, `-` or `_`; unique in a registry. */
  readonly name: Name;
  /**
   * What anyone may learn when the check fails, fixed by the check (e.g. "the database cannot be
   * read"); exception text never reaches it. Default: "<name> is failing".
   */
  readonly publicCause?: string;
  /** A failing critical check fails a view (DOWN, 503); a non-critical one only warns. Default true. */
  readonly critical?: boolean;
}

/**
 * A check run on its own timer. `run` answers the question "is it healthy?":
 * returns (or resolves to) `false`: DOWN (the Go original's `Check() bool`); returns or resolves
 * anything else: UP; throws or rejects: DOWN, the error's text kept for details only.
 * A run that returns no promise is recorded at once, with no timer.
 */
export interface PolledCheck<Name extends string = string> extends CheckBase<Name> {
  readonly kind?: 'polled';
  readonly run: (signal: AbortSignal) => unknown;
  /** Time between the end of one run and the start of the next. */
  readonly intervalMs: number;
  /** A run not settled by then is DOWN and its signal aborts; it is not restarted until it settles. */
  readonly timeoutMs: number;
  /** A result older than this turns the check UNKNOWN (by a timer). Default 3 intervals + the timeout. */
  readonly maxAgeMs?: number;
  /**
   * Called once by `health.close()`: releases what the check holds between runs (a monitor, a
   * pool). What it throws is ignored.
   */
  readonly close?: () => void;
}

/**
 * A check whose value the service pushes (started, draining, a switch): see `Health.flag`. It is UP
 * while its value equals `healthyWhen`, so a flag named after a bad state reads right:
 * `{ name: 'draining', kind: 'flag', healthyWhen: false }`, then `flag('draining').set(true)` is DOWN.
 */
export interface FlagCheck<Name extends string = string> extends CheckBase<Name> {
  readonly kind: 'flag';
  /** The value that means healthy. Default true. */
  readonly healthyWhen?: boolean;
  /** The value before the first `set`. Default false. A flag that starts unhealthy says "not set yet". */
  readonly initial?: boolean;
}

export type CheckDefinition<Name extends string = string> = PolledCheck<Name> | FlagCheck<Name>;

/** A check in a view, with policy overrides that apply in this view only. */
export interface ViewCheck<CheckName extends string = string> extends CheckPolicy {
  readonly check: CheckName;
  /** Overrides the check's own `critical` in this view. */
  readonly critical?: boolean;
}

export interface ViewDefinition<CheckName extends string = string, Name extends string = string> {
  /** Letters, digits, `-` or `_`; unique. Named in events, the verbose verdict line and health+json. */
  readonly name: Name;
  /**
   * The route that answers it, e.g. `/health/ready`: `/` then letters, digits, `-._~` and `/`; unique,
   * and neither `checksPath`, under `<checksPath>/`, nor the watch path.
   */
  readonly path: string;
  /** Check names (the check's own policy) or `ViewCheck`s (with overrides). */
  readonly checks: readonly (CheckName | ViewCheck<CheckName>)[];
}

/** Who may see details (every check, exception text, durations, history, the watch stream). */
export interface DisclosureOptions {
  /** 'never' (the default), 'always', or 'token': `Authorization: Bearer <token>` required. */
  readonly mode: 'never' | 'always' | 'token';
  /** Required with mode 'token' (at least 16 characters); an error with any other mode. */
  readonly token?: string;
}

export interface WatchOptions {
  /** Default `/health/watch`. */
  readonly path?: string;
  /** Streams open at once; one more gets 503. Default 10. */
  readonly maxSubscribers?: number;
  /** A comment line this often keeps proxies from closing an idle stream. Default 15000. */
  readonly heartbeatMs?: number;
  /**
   * Bytes a watcher may have waiting (written, not yet taken by its connection) before the next
   * write: one that falls further behind is cut off and `onWatcherDropped` listeners are told.
   * Default 65536.
   */
  readonly maxQueuedBytes?: number;
}

/**
 * The options of `createHealth`. Its type parameters are inferred from inline options, so a view
 * naming an undefined check is a type error; written as `HealthOptions` (no arguments) names are strings.
 */
export interface HealthOptions<
  Checks extends readonly CheckDefinition[] = readonly CheckDefinition[],
  Views extends readonly ViewDefinition[] = readonly ViewDefinition[],
> {
  readonly checks: Checks;
  readonly views: Views;
  /** Default `{ mode: 'never' }`. */
  readonly disclosure?: DisclosureOptions;
  /** Prefix of the per-check route: `<checksPath>/<name>`. Default `/health/checks`; no trailing `/`. */
  readonly checksPath?: string;
  /** The Server-Sent Events route of changes; `false` for none. Default: on, with the defaults above. */
  readonly watch?: WatchOptions | false;
  /** `serviceId` and description in `application/health+json` answers. Default "service". */
  readonly serviceId?: string;
  /** How many events `history()` keeps. Default 100. */
  readonly historySize?: number;
  /** Default: the system clock (unref'd timers). */
  readonly clock?: Clock;
}

/** A check's state under one policy (its own, or a view's overrides). Times: ISO 8601. */
export interface CheckReport {
  readonly name: string;
  readonly status: CheckStatus;
  readonly critical: boolean;
  /** The fixed public cause, when not UP. */
  readonly publicCause?: string;
  /** Why, in detail (exception text, timeout, staleness), when not UP: shown with details only. */
  readonly cause?: string;
  /** Duration of the last run (polled checks). */
  readonly durationMs?: number;
  readonly lastResultAt?: string;
  /** When the status last changed. */
  readonly since: string;
}

export interface ViewReport {
  readonly view: string;
  readonly status: ViewStatus;
  /** The view's checks in its order, each under the view's policy. */
  readonly checks: readonly CheckReport[];
}

/** A check changed status, under its own policy. */
export interface CheckEvent {
  readonly type: 'check';
  readonly check: string;
  readonly from: CheckStatus;
  readonly to: CheckStatus;
  readonly publicCause?: string;
  readonly cause?: string;
  readonly at: string;
  /** How long the previous status lasted. */
  readonly previousLastedMs: number;
}

/** A view's overall status changed. */
export interface ViewEvent {
  readonly type: 'view';
  readonly view: string;
  readonly from: ViewStatus;
  readonly to: ViewStatus;
  readonly at: string;
  readonly previousLastedMs: number;
}

export type HealthEvent = CheckEvent | ViewEvent;

/** A flag check's handle: set it when the thing it stands for changes. */
export interface Flag<Name extends string = string> {
  readonly name: Name;
  /**
   * Records the value at once. A value other than the check's `healthyWhen` is DOWN, with `cause` as
   * its detail (the public cause stays the check's).
   */
  set(value: boolean, cause?: string): void;
  /** The value last set (or `initial`). */
  readonly value: boolean;
  /** Whether the check is UP under its own policy. */
  readonly up: boolean;
}

/** What a health route needs from a request: any HTTP framework can supply it. */
export interface HealthRequest {
  readonly method: string;
  /** Path and query, as on the request line. */
  readonly url: string;
  readonly headers: { readonly [name: string]: string | string[] | undefined };
}

/** A complete answer: status, headers and body, ready to write. */
export interface HealthAnswer {
  readonly kind: 'answer';
  readonly statusCode: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The route template, e.g. `/health/ready` or `/health/checks/:name` (for metrics and logs). */
  readonly route: string;
}

/** Where a watch stream writes: anything that takes text, says how much it holds, and can end. */
export interface WatchSink {
  write(chunk: string): void;
  /** Bytes written and not yet taken by the peer (a node:http response: its `writableLength`). */
  readonly queuedBytes: number;
  end(): void;
  /** Closes the stream at once, discarding what waits: how a watcher too far behind is dropped. */
  destroy(): void;
}

/** A watch stream the package cut off, as `onWatcherDropped` listeners hear of it (to log and count). */
export interface WatcherDropped {
  /** 'behind': it had more than `watch.maxQueuedBytes` waiting; 'failed': writing to it threw. */
  readonly reason: 'behind' | 'failed';
  /** Bytes it had waiting. */
  readonly queuedBytes: number;
  readonly maxQueuedBytes: number;
  /** Watchers still open after it. */
  readonly watchers: number;
  readonly at: string;
}

/** The watch route accepted the request: write the head, then call `attach` with the stream. */
export interface HealthStream {
  readonly kind: 'stream';
  readonly statusCode: 200;
  readonly headers: Readonly<Record<string, string>>;
  readonly route: string;
  /** Sends the snapshot and subscribes; returns the function that unsubscribes (call it on close). */
  attach(sink: WatchSink): () => void;
}

/**
 * A registry of checks and views. Its names are the type arguments `createHealth` infers from
 * inline options (a misspelt name is a type error); `Health` with none takes any string.
 */
export interface Health<
  CheckName extends string = string,
  FlagName extends string = string,
  ViewName extends string = string,
> {
  /**
   * Runs every polled check once (so the first probe finds results), then starts their timers.
   * Settles within the longest check's `timeoutMs` (a hung run is DOWN "timed out"), and keeps the
   * process alive until then: awaiting it before `listen()` never exits early; `close()` settles it.
   */
  start(): Promise<void>;
  /**
   * Stops the timers, aborts the runs under way (their results are ignored), calls each polled
   * check's `close`, and ends every watch stream with a final event. Idempotent; a closed registry
   * does not start again.
   */
  close(reason?: string): void;
  /** The handle of a flag check; throws for a name that is not a flag. */
  flag(name: FlagName): Flag<FlagName>;
  /** A view's current report; undefined for an unknown view. Runs nothing: states are pushed. */
  view(name: ViewName, options?: { readonly exclude?: readonly CheckName[] }): ViewReport | undefined;
  /** One check under its own policy; undefined for an unknown name. */
  check(name: CheckName): CheckReport | undefined;
  readonly checkNames: readonly CheckName[];
  readonly viewNames: readonly ViewName[];
  /** Subscribes to every event at the moment it happens; returns the unsubscribe function. */
  on(listener: (event: HealthEvent) => void): () => void;
  /** Subscribes to the watch streams the package cuts off; returns the unsubscribe function. */
  onWatcherDropped(listener: (dropped: WatcherDropped) => void): () => void;
  /** The most recent events, oldest first (a bounded ring buffer). */
  history(): readonly HealthEvent[];
  /**
   * Answers a request if it is for a health route (a view, a check, the watch stream), else
   * undefined. Framework-free: the adapters (node-http, fastify) write what this returns.
   */
  answer(request: HealthRequest): HealthAnswer | HealthStream | undefined;
  /** Every route template this instance answers (views, `<checksPath>/:name`, watch). */
  readonly routes: readonly string[];
}

/** What an adapter reports about each health request it answered (for metrics and access logs). */
export interface AnsweredRequest {
  readonly method: string;
  /** The route template, e.g. `/health/ready`. */
  readonly route: string;
  readonly statusCode: number;
  /** From the request's arrival to the end of the answer (streams: to the head). */
  readonly durationMs: number;
}

/**
 * Hooks an adapter calls so the host service keeps its own conventions on health answers. The
 * request is the framework's own (node:http's or Express's req, Fastify's request, Koa's ctx):
 * annotate the parameter with your framework's type to use what it adds (methods, so that
 * compiles).
 */
export interface AdapterHooks<Request = unknown> {
  /** Headers added to every health answer (nosniff, a request id...); the package's own content headers win. */
  headers?(request: Request): Readonly<Record<string, string>> | undefined;
  /**
   * Called once per answered health request, with the headers `headers` gave its answer (so a
   * request id need not be kept aside). Must not throw (what it throws is ignored).
   */
  onAnswered?(answered: AnsweredRequest, request: Request, headers: Readonly<Record<string, string>> | undefined): void;
}

/** A node:http request listener: what `withHealth` wraps and returns. */
export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** The check names of a list of definitions: literals when the list is written inline. */
export type CheckNameOf<Checks extends readonly CheckDefinition[]> = Checks[number]['name'];

/** The names of the flag checks among them. */
export type FlagNameOf<Checks extends readonly CheckDefinition[]> = Extract<
  Checks[number],
  { readonly kind: 'flag' }
>['name'];

/** The view names of a list of view definitions. */
export type ViewNameOf<Views extends readonly ViewDefinition[]> = Views[number]['name'];

// The graceful shutdown (createShutdown): its options, its events, and the servers it stops,
// described by shape so that no HTTP module is imported (a node:http or https Server, or what
// Express and Koa's listen() return, fits).

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
