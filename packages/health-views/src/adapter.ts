// What every adapter does the same way, whatever object writes the bytes: it asks for the answer
// without ever throwing, takes the host's headers without letting the host's hook break the
// answer, and reports each answer once. Framework-free: the adapters pass their own request in.

import { errorAnswer } from './render.js';
import type { AdapterHooks, AnsweredRequest, Health, HealthAnswer, HealthRequest, HealthStream } from './types.js';

/** The health answer to a request, undefined for any other request; a fault inside the package is a plain 503. */
export function answerOf(health: Health, request: HealthRequest): HealthAnswer | HealthStream | undefined {
  try {
    return health.answer(request);
  } catch {
    // Nothing in answer() is meant to throw; if it ever does, the prober gets a plain 503, not a
    // process brought down by an exception thrown from a request listener or a framework's 500.
    return UNAVAILABLE;
  }
}

/**
 * The host's extra headers for this answer, with lower-case names (so the package's own win by
 * name) and none of the headers that describe the body: the answer alone decides those, also
 * where it sends none (a stream has no length, a 204 no type). A hook that throws adds none.
 */
export function hostHeaders<Request>(
  hooks: AdapterHooks<Request>,
  request: Request,
): Readonly<Record<string, string>> | undefined {
  if (hooks.headers === undefined) return undefined;
  let headers: Readonly<Record<string, string>> | undefined;
  try {
    headers = hooks.headers(request);
  } catch {
    return undefined; // a host hook's failure must not break the health answer
  }
  if (headers === undefined) return undefined;
  for (const name in headers) {
    // The usual hook (a few lower-case names) is returned as it is: no copy per probe.
    if (name !== name.toLowerCase() || BODY_HEADERS.has(name)) return withoutBodyHeaders(headers);
  }
  return headers;
}

const BODY_HEADERS = new Set(['content-length', 'content-type', 'content-encoding', 'transfer-encoding']);

function withoutBodyHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (!BODY_HEADERS.has(lower)) kept[lower] = headers[name]!;
  }
  return kept;
}

/**
 * Calls the host's onAnswered, if any, with the headers its hook gave the answer; what it throws is
 * ignored. `startedAt` is from performance.now().
 */
export function reportAnswered<Request>(
  hooks: AdapterHooks<Request>,
  request: Request,
  method: string,
  answer: HealthAnswer | HealthStream,
  startedAt: number,
  headers: Readonly<Record<string, string>> | undefined,
): void {
  if (hooks.onAnswered === undefined) return;
  const answered: AnsweredRequest = {
    method,
    route: answer.route,
    statusCode: answer.statusCode,
    durationMs: performance.now() - startedAt,
  };
  try {
    hooks.onAnswered(answered, request, headers);
  } catch {
    // as above
  }
}

/** Made once: the fault path allocates nothing either. */
const UNAVAILABLE = errorAnswer('(health)', 503, 'the health answer could not be made');
