// Checks the options once, at construction: a mistake is an error naming what is wrong, never a
// registry that silently reports something else.

import { MAX_TIMER_MS } from './scheduler.js';
import type { CheckDefinition, CheckPolicy, HealthOptions, ViewDefinition } from './types.js';

const NAME = /^[a-z0-9][a-z0-9_-]*$/i;

/**
 * What a route path may hold: characters a request line carries unencoded and every adapter
 * matches as written (RFC 3986's unreserved ones and `/`). Fastify's router decodes `%xx` before
 * matching and reads `:` and `*` as parameters, while the interceptor compares raw bytes: a path
 * with them would be one route under one adapter and another under the other.
 */
const PATH = /^\/[A-Za-z0-9._~/-]*$/;
const PATH_RULE = 'must be / then letters, digits, - . _ ~ and /';

export function validateOptions(options: HealthOptions): void {
  if (options === null || typeof options !== 'object') throw new Error('health-views: options must be an object');
  if (!Array.isArray(options.checks)) throw new Error('health-views: options.checks must be an array');
  if (!Array.isArray(options.views)) throw new Error('health-views: options.views must be an array');
  const checks = new Set<string>();
  // Array.isArray narrows a readonly array to any[]: keep the declared element type.
  for (const check of options.checks as readonly CheckDefinition[]) {
    validateCheck(check);
    if (checks.has(check.name)) throw new Error(`health-views: check "${check.name}" is defined twice`);
    checks.add(check.name);
  }
  const views = new Set<string>();
  for (const view of options.views as readonly ViewDefinition[]) {
    validateView(view, checks);
    if (views.has(view.name)) throw new Error(`health-views: view "${view.name}" is defined twice`);
    views.add(view.name);
  }
  wholeNumber(options.historySize, 'historySize', 0);
  if (options.watch) {
    // No watchers at all is watch: false (no route), not a route that always answers 503.
    wholeNumber(options.watch.maxSubscribers, 'watch.maxSubscribers', 1);
    atLeast(options.watch.heartbeatMs, 'watch.heartbeatMs', 1, false, MAX_TIMER_MS);
    wholeNumber(options.watch.maxQueuedBytes, 'watch.maxQueuedBytes', 1);
  }
  validateRoutes(options);
}

/**
 * Refuses two routes that one request would reach. Paths are compared the way routes.ts matches a
 * request: the raw path of the request line before `?`, byte for byte (no decoding: PATH admits no
 * `%`; case-sensitive; a trailing slash significant), views first, then checksPath and everything
 * under `<checksPath>/`, then the watch path. So a view at one of those (or a watch path under
 * checksPath) would silently take that route under the interceptor; under the Fastify plugin it is
 * a duplicate route at startup, or a static route in front of `<checksPath>/:name`. `/Health` or
 * `/health/ready/` beside `/health/ready` are other routes to every adapter at its defaults, so
 * they are not refused.
 */
/** The built-in routes' paths, defaults applied: what validateRoutes checks is what createHealth serves. */
export function builtInPaths(options: HealthOptions): { checksPath: string; watchPath: string | undefined } {
  return {
    checksPath: options.checksPath ?? '/health/checks',
    watchPath: options.watch === false ? undefined : (options.watch?.path ?? '/health/watch'),
  };
}

function validateRoutes(options: HealthOptions): void {
  const { checksPath, watchPath } = builtInPaths(options);
  validatePath(checksPath, 'checksPath');
  if (checksPath.endsWith('/')) {
    throw new Error(
      `health-views: checksPath must not end with / (got "${checksPath}"): its routes are <checksPath>/:name`,
    );
  }
  const checksRoutes = `checksPath ${checksPath} (the routes ${checksPath} and ${checksPath}/:name)`;
  if (watchPath !== undefined) {
    validatePath(watchPath, 'watch.path');
    if (isUnder(watchPath, checksPath)) {
      throw new Error(`health-views: watch.path ${watchPath} collides with ${checksRoutes}`);
    }
  }
  const viewAt = new Map<string, string>();
  for (const view of options.views) {
    const where = `view "${view.name}" at ${view.path}`;
    const other = viewAt.get(view.path);
    if (other !== undefined) throw new Error(`health-views: ${where} collides with view "${other}" at the same path`);
    viewAt.set(view.path, view.name);
    if (isUnder(view.path, checksPath)) throw new Error(`health-views: ${where} collides with ${checksRoutes}`);
    if (view.path === watchPath) throw new Error(`health-views: ${where} collides with watch.path ${watchPath}`);
  }
}

/** Whether a request for path would be taken by the route prefix or `<prefix>/...`. */
function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

function validatePath(path: unknown, what: string): void {
  if (typeof path !== 'string' || !PATH.test(path)) {
    throw new Error(`health-views: ${what} ${PATH_RULE} (got ${JSON.stringify(path)})`);
  }
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new Error(`health-views: ${what} ${path} holds a . or .. segment, which clients remove before sending`);
  }
}

/** One check definition; the built-in checks call it on what their factory builds. */
export function validateCheck(check: CheckDefinition): void {
  if (typeof check?.name !== 'string' || !NAME.test(check.name)) {
    throw new Error(`health-views: check name ${JSON.stringify(check?.name)} must be letters, digits, - or _`);
  }
  const where = `check "${check.name}"`;
  validatePolicy(check, where);
  optionalBoolean(check.critical, `${where}: critical`);
  if (check.publicCause !== undefined && (typeof check.publicCause !== 'string' || check.publicCause === '')) {
    throw new Error(`health-views: ${where}: publicCause must be a non-empty string when given`);
  }
  if (check.kind === 'flag') {
    optionalBoolean(check.healthyWhen, `${where}: healthyWhen`);
    optionalBoolean(check.initial, `${where}: initial`);
    return;
  }
  if (check.kind !== undefined && check.kind !== 'polled') {
    throw new Error(`health-views: ${where}: kind must be 'polled' or 'flag'`);
  }
  if (typeof check.run !== 'function') throw new Error(`health-views: ${where}: run must be a function`);
  if (check.close !== undefined && typeof check.close !== 'function') {
    throw new Error(`health-views: ${where}: close must be a function when given`);
  }
  // Timers: past a Node timer's limit a delay fires after 1 ms instead.
  atLeast(check.intervalMs, `${where}: intervalMs`, 1, true, MAX_TIMER_MS);
  atLeast(check.timeoutMs, `${where}: timeoutMs`, 1, true, MAX_TIMER_MS);
  atLeast(check.maxAgeMs, `${where}: maxAgeMs`, 1, false, MAX_TIMER_MS);
  // A result may come intervalMs + timeoutMs after the last: a shorter maxAgeMs turns a healthy
  // check UNKNOWN between runs, and a critical one takes its views DOWN and UP again.
  if (check.maxAgeMs !== undefined && check.maxAgeMs <= check.intervalMs + check.timeoutMs) {
    throw new Error(
      `health-views: ${where}: maxAgeMs must be above intervalMs + timeoutMs (${check.intervalMs + check.timeoutMs} ms), or the check reads UNKNOWN between runs (got ${check.maxAgeMs})`,
    );
  }
}

function validateView(view: ViewDefinition, checks: ReadonlySet<string>): void {
  if (typeof view?.name !== 'string' || !NAME.test(view.name)) {
    throw new Error(`health-views: view name ${JSON.stringify(view?.name)} must be letters, digits, - or _`);
  }
  validatePath(view.path, `view "${view.name}": path`);
  const members: ViewDefinition['checks'] = view.checks;
  if (!Array.isArray(members)) {
    throw new Error(`health-views: view "${view.name}": checks must be an array of check names`);
  }
  const seen = new Set<string>();
  for (const member of members as ViewDefinition['checks']) {
    const name = typeof member === 'string' ? member : member.check;
    if (!checks.has(name)) {
      throw new Error(`health-views: view "${view.name}" names check "${name}", which is not defined`);
    }
    if (seen.has(name)) throw new Error(`health-views: view "${view.name}" names check "${name}" twice`);
    seen.add(name);
    if (typeof member === 'string') continue;
    validatePolicy(member, `view "${view.name}", check "${name}"`);
    optionalBoolean(member.critical, `view "${view.name}", check "${name}": critical`);
  }
}

function validatePolicy(policy: CheckPolicy, where: string): void {
  if (policy.failureThreshold === Number.POSITIVE_INFINITY) {
    // "Never by count": only meaningful with a time in the same policy, or nothing would turn it DOWN.
    if (policy.failureGraceMs === undefined) {
      throw new Error(
        `health-views: ${where}: failureThreshold Infinity needs failureGraceMs beside it (time alone decides)`,
      );
    }
  } else {
    wholeNumber(policy.failureThreshold, `${where}: failureThreshold`, 1);
  }
  wholeNumber(policy.successThreshold, `${where}: successThreshold`, 1);
  atLeast(policy.failureGraceMs, `${where}: failureGraceMs`, 0);
}

/** A number in [min, max] (min 1 unless said), when given; required: it must be given. */
function atLeast(value: number | undefined, what: string, min = 1, required = false, max = Infinity): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`;
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw new Error(`health-views: ${what} must be a number ${range} (got ${shown})`);
  }
}

/** A count (a size, a threshold): a whole number from min, when given. */
function wholeNumber(value: number | undefined, what: string, min: number): void {
  atLeast(value, what, min);
  if (value !== undefined && !Number.isInteger(value)) {
    throw new Error(`health-views: ${what} must be a whole number (got ${value})`);
  }
}

function optionalBoolean(value: unknown, what: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new Error(`health-views: ${what} must be true or false (got ${JSON.stringify(value)})`);
  }
}
