// The whole public surface of health-views in one file: what a check is, what a view is, what the
// registry reports and what the HTTP adapters accept. Every other module implements these types.
//
// Vocabulary:
// - a check is a named source of UP/DOWN results: polled (a function run on its own timer) or a
//   flag (a value the service sets when something happens: started, shutting down, a switch);
// - a view is a named, routed selection of checks with its own policy per check (e.g. /health for
//   Swarm turns DOWN only after the database has failed for 30 s; /health/ready reacts at once);
// - an event is a change: a check's status (under its own policy) or a view's overall status.

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

interface CheckBase extends CheckPolicy {
  /** Letters, digits, `-` or `_`; unique in a registry. */
  readonly name: string;
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
export interface PolledCheck extends CheckBase {
  readonly kind?: 'polled';
  readonly run: (signal: AbortSignal) => unknown;
  /** Time between the end of one run and the start of the next. */
  readonly intervalMs: number;
  /** A run not settled by then is DOWN and its signal aborts; it is not restarted until it settles. */
  readonly timeoutMs: number;
  /** A result older than this turns the check UNKNOWN (by a timer). Default 3 intervals + the timeout. */
  readonly maxAgeMs?: number;
}

/** A check whose state the service pushes (started, shutting down, a switch): see `Health.flag`. */
export interface FlagCheck extends CheckBase {
  readonly kind: 'flag';
  /** The state before the first `set`. Default false (DOWN with the public cause). */
  readonly initial?: boolean;
}

export type CheckDefinition = PolledCheck | FlagCheck;

/** A check in a view, with policy overrides that apply in this view only. */
export interface ViewCheck extends CheckPolicy {
  readonly check: string;
  /** Overrides the check's own `critical` in this view. */
  readonly critical?: boolean;
}

export interface ViewDefinition {
  /** Letters, digits, `-` or `_`; unique. Named in events, the verbose verdict line and health+json. */
  readonly name: string;
  /** The route that answers it, e.g. `/health/ready`; unique, starts with `/`. */
  readonly path: string;
  /** Check names (the check's own policy) or `ViewCheck`s (with overrides). */
  readonly checks: readonly (string | ViewCheck)[];
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
}

export interface HealthOptions {
  readonly checks: readonly CheckDefinition[];
  readonly views: readonly ViewDefinition[];
  /** Default `{ mode: 'never' }`. */
  readonly disclosure?: DisclosureOptions;
  /** Prefix of the per-check route: `<checksPath>/<name>`. Default `/health/checks`. */
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
export interface Flag {
  readonly name: string;
  /** `false`: DOWN with the optional detail cause (the public cause stays the check's). */
  set(up: boolean, cause?: string): void;
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

/** Where a watch stream writes: anything that takes text and can end. */
export interface WatchSink {
  write(chunk: string): void;
  end(): void;
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

export interface Health {
  /** Runs every polled check once (so the first probe finds results), then starts their timers. */
  start(): Promise<void>;
  /** Stops the timers and ends every watch stream with a final event. Idempotent. */
  close(reason?: string): void;
  /** The handle of a flag check; throws for a name that is not a flag. */
  flag(name: string): Flag;
  /** A view's current report; undefined for an unknown view. Runs nothing: states are pushed. */
  view(name: string, options?: { readonly exclude?: readonly string[] }): ViewReport | undefined;
  /** One check under its own policy; undefined for an unknown name. */
  check(name: string): CheckReport | undefined;
  readonly checkNames: readonly string[];
  readonly viewNames: readonly string[];
  /** Subscribes to every event at the moment it happens; returns the unsubscribe function. */
  on(listener: (event: HealthEvent) => void): () => void;
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

/** Hooks an adapter calls so the host service keeps its own conventions on health answers. */
export interface AdapterHooks<Request = unknown> {
  /** Headers added to every health answer (nosniff, a request id...). */
  readonly headers?: (request: Request) => Readonly<Record<string, string>> | undefined;
  /**
   * Called once per answered health request, with the headers `headers` gave its answer (so a
   * request id need not be kept aside). Must not throw (what it throws is ignored).
   */
  readonly onAnswered?: (
    answered: AnsweredRequest,
    request: Request,
    headers: Readonly<Record<string, string>> | undefined,
  ) => void;
}
