// Checks the options once, at construction: a mistake is an error naming what is wrong, never a
// registry that silently reports something else.

import type { CheckDefinition, CheckPolicy, HealthOptions, ViewDefinition } from './types.js';

const NAME = /^[a-z0-9][a-z0-9_-]*$/i;

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
  const paths = new Set<string>();
  for (const view of options.views as readonly ViewDefinition[]) {
    validateView(view, checks);
    if (views.has(view.name)) throw new Error(`health-views: view "${view.name}" is defined twice`);
    if (paths.has(view.path)) throw new Error(`health-views: two views answer on ${view.path}`);
    views.add(view.name);
    paths.add(view.path);
  }
  atLeast(options.historySize, 'historySize', 0);
  if (options.watch) {
    atLeast(options.watch.maxSubscribers, 'watch.maxSubscribers', 0);
    atLeast(options.watch.heartbeatMs, 'watch.heartbeatMs');
  }
}

/** One check definition; the built-in checks call it on what their factory builds. */
export function validateCheck(check: CheckDefinition): void {
  if (typeof check?.name !== 'string' || !NAME.test(check.name)) {
    throw new Error(`health-views: check name ${JSON.stringify(check?.name)} must be letters, digits, - or _`);
  }
  const where = `check "${check.name}"`;
  validatePolicy(check, where);
  if (check.kind === 'flag') return;
  if (check.kind !== undefined && check.kind !== 'polled') {
    throw new Error(`health-views: ${where}: kind must be 'polled' or 'flag'`);
  }
  if (typeof check.run !== 'function') throw new Error(`health-views: ${where}: run must be a function`);
  if (check.close !== undefined && typeof check.close !== 'function') {
    throw new Error(`health-views: ${where}: close must be a function when given`);
  }
  atLeast(check.intervalMs, `${where}: intervalMs`, 1, true);
  atLeast(check.timeoutMs, `${where}: timeoutMs`, 1, true);
  atLeast(check.maxAgeMs, `${where}: maxAgeMs`);
}

function validateView(view: ViewDefinition, checks: ReadonlySet<string>): void {
  if (typeof view?.name !== 'string' || !NAME.test(view.name)) {
    throw new Error(`health-views: view name ${JSON.stringify(view?.name)} must be letters, digits, - or _`);
  }
  if (typeof view.path !== 'string' || !/^\/[^?#\s]*$/.test(view.path)) {
    throw new Error(`health-views: view "${view.name}": path must start with / and hold no query`);
  }
  const seen = new Set<string>();
  for (const member of view.checks) {
    const name = typeof member === 'string' ? member : member.check;
    if (!checks.has(name)) {
      throw new Error(`health-views: view "${view.name}" names check "${name}", which is not defined`);
    }
    if (seen.has(name)) throw new Error(`health-views: view "${view.name}" names check "${name}" twice`);
    seen.add(name);
    if (typeof member !== 'string') validatePolicy(member, `view "${view.name}", check "${name}"`);
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
    atLeast(policy.failureThreshold, `${where}: failureThreshold`);
  }
  atLeast(policy.successThreshold, `${where}: successThreshold`);
  atLeast(policy.failureGraceMs, `${where}: failureGraceMs`, 0);
}

/** A number no smaller than min (1 unless said), when given; required: it must be given. */
function atLeast(value: number | undefined, what: string, min = 1, required = false): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new Error(`health-views: ${what} must be a number >= ${min} (got ${String(value)})`);
  }
}
