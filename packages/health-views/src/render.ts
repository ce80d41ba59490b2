// Bytes for each format: the article's JSON (the plain probe's, pre-rendered by the registry when
// a view changes), Kubernetes' ?verbose text and the IETF health+json draft (per request); and the
// answers that carry them: the headers the package sets are set here and nowhere else.

import type { CheckReport, HealthAnswer, HealthEvent, ViewStatus } from './types.js';

export interface Renderable {
  /** The view's name, or the check's for the per-check route. */
  readonly name: string;
  readonly status: ViewStatus;
  readonly checks: readonly CheckReport[];
  /** Names the request left out with ?exclude. */
  readonly excluded: readonly string[];
  /** Whether everything may be shown: passing checks, exception text, durations, history. */
  readonly details: boolean;
  readonly history?: readonly HealthEvent[];
  readonly serviceId: string;
}

export const JSON_TYPE = 'application/json; charset=utf-8';
export const HEALTH_JSON_TYPE = 'application/health+json; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';

/** No health answer may be served from a cache: it would tell an old state as the current one. */
const NO_STORE = 'no-store';

/** The watch stream's head; `x-accel-buffering: no` keeps nginx from holding its events back. */
export const STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': NO_STORE,
  'x-accel-buffering': 'no',
};

/** A complete answer with a body: its type, its length, and no caching. */
export function bodyAnswer(route: string, statusCode: number, type: string, body: Buffer): HealthAnswer {
  return {
    kind: 'answer',
    route,
    statusCode,
    headers: { 'content-type': type, 'cache-control': NO_STORE, 'content-length': String(body.length) },
    body,
  };
}

/** An answer without a body (OPTIONS' 204, HEAD on the watch stream): `headers`, and no caching. */
export function emptyAnswer(
  route: string,
  statusCode: number,
  headers: Readonly<Record<string, string>>,
): HealthAnswer {
  return { kind: 'answer', route, statusCode, headers: { ...headers, 'cache-control': NO_STORE }, body: EMPTY_BODY };
}

const EMPTY_BODY = Buffer.alloc(0);

/** A 4xx or 503 with the package's error body. */
export function errorAnswer(route: string, statusCode: number, message: string): HealthAnswer {
  return bodyAnswer(route, statusCode, JSON_TYPE, renderError(statusCode, message));
}

export function statusCodeOf(status: ViewStatus): 200 | 503 {
  return status === 'DOWN' ? 503 : 200;
}

/** Without details only the checks that are not UP are named, with their fixed public cause. */
function visible(input: Renderable): readonly CheckReport[] {
  return input.details ? input.checks : input.checks.filter((check) => check.status !== 'UP');
}

export function renderJson(input: Renderable): Buffer {
  const checks: Record<string, object> = {};
  for (const check of visible(input)) {
    checks[check.name] = input.details
      ? {
          status: check.status,
          critical: check.critical,
          ...(check.publicCause === undefined ? {} : { cause: check.publicCause }),
          ...(check.cause === undefined ? {} : { detail: check.cause }),
          ...(check.durationMs === undefined ? {} : { durationMs: check.durationMs }),
          ...(check.lastResultAt === undefined ? {} : { lastResultAt: check.lastResultAt }),
          since: check.since,
        }
      : { status: check.status, ...(check.publicCause === undefined ? {} : { cause: check.publicCause }) };
  }
  // The seed's UP answer, byte for byte, when there is nothing more to say.
  const bare = Object.keys(checks).length === 0 && input.excluded.length === 0 && input.history === undefined;
  const body = bare
    ? { status: input.status }
    : {
        status: input.status,
        checks,
        ...(input.excluded.length === 0 ? {} : { excluded: input.excluded }),
        ...(input.history === undefined ? {} : { history: input.history }),
      };
  return Buffer.from(JSON.stringify(body));
}

const IETF_STATUS = { UP: 'pass', WARN: 'warn', DOWN: 'fail' } as const;

/** draft-inadarei-api-health-check: checks keyed "component:measurement", each an array. */
export function renderHealthJson(input: Renderable): Buffer {
  const checks: Record<string, object[]> = {};
  for (const check of visible(input)) {
    const status = check.status === 'UP' ? 'pass' : check.critical ? 'fail' : 'warn';
    const detail = input.details && check.cause !== undefined ? `: ${check.cause}` : '';
    const output = check.publicCause === undefined ? undefined : `${check.publicCause}${detail}`;
    checks[`${check.name}:status`] = [
      {
        componentId: check.name,
        status,
        ...(input.details && check.durationMs !== undefined
          ? { observedValue: check.durationMs, observedUnit: 'ms' }
          : {}),
        ...(input.details && check.lastResultAt !== undefined ? { time: check.lastResultAt } : {}),
        ...(output === undefined ? {} : { output }),
      },
    ];
  }
  const body = {
    status: IETF_STATUS[input.status],
    serviceId: input.serviceId,
    description: `${input.name} of ${input.serviceId}`,
    checks,
    ...(input.excluded.length === 0 ? {} : { notes: input.excluded.map((name) => `${name} excluded`) }),
  };
  return Buffer.from(JSON.stringify(body));
}

/** Kubernetes' ?verbose shape: one [+]/[-] line a check (excluded ones marked), then the verdict. */
export function renderText(input: Renderable): Buffer {
  const lines = visible(input).map((check) => {
    if (check.status === 'UP') return `[+]${check.name} ok`;
    const cause = check.publicCause ?? check.status.toLowerCase();
    const detail = input.details && check.cause !== undefined ? ` (${check.cause})` : '';
    return `[-]${check.name} ${check.critical ? 'failed' : 'warning'}: ${cause}${detail}`;
  });
  for (const name of input.excluded) lines.push(`[+]${name} excluded: ok`);
  lines.push(`${input.name} check ${input.status === 'DOWN' ? 'failed' : 'passed'}`);
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** The error shape every 4xx of the package has. */
function renderError(statusCode: number, message: string): Buffer {
  const error = REASONS[statusCode] ?? 'Error';
  return Buffer.from(JSON.stringify({ statusCode, error, message }));
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  503: 'Service Unavailable',
};
