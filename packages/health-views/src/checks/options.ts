// What every built-in check takes beside its own limits, and how a factory turns it into a
// PolledCheck: defaults filled in, every option checked at construction, an error naming the
// option (a misspelt one included: an option silently ignored is a limit never applied).

import type { CheckPolicy, PolledCheck } from '../types.js';
import { validateCheck } from '../validate.js';

/** The options every built-in check takes; each check adds its own limits. */
export interface BuiltInCheckOptions<Name extends string = string> extends CheckPolicy {
  /** Letters, digits, `-` or `_`. Default: the check's kind (`tcp`, `http`, `event-loop`, `memory`, `disk`). */
  readonly name?: Name;
  /** Time from the end of one run to the start of the next. Default: the check's own. */
  readonly intervalMs?: number;
  /** A run not settled by then is DOWN and its signal aborts. Default: the check's own. */
  readonly timeoutMs?: number;
  /** A result older than this turns the check UNKNOWN. Default 3 intervals + the timeout. */
  readonly maxAgeMs?: number;
  /** Default true. */
  readonly critical?: boolean;
  /** What anyone may learn when it fails. Default: a fixed phrase per kind that names no host or path. */
  readonly publicCause?: string;
}

/** A built-in check: a PolledCheck whose name TypeScript knows, to put in `checks` as it is. */
export type BuiltInCheck<Name extends string = string> = PolledCheck & { readonly name: Name };

/** A kind's own defaults for the options above. */
export interface CheckDefaults {
  readonly name: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly publicCause: string;
}

const COMMON_OPTIONS = [
  'name',
  'intervalMs',
  'timeoutMs',
  'maxAgeMs',
  'critical',
  'publicCause',
  'failureThreshold',
  'failureGraceMs',
  'successThreshold',
] as const;

/**
 * Checks that options is an object with no option the factory does not know; returns the prefix of
 * its error messages.
 */
export function checkOptionNames(factory: string, options: unknown, own: readonly string[]): string {
  if (options === null || typeof options !== 'object')
    throw new Error(`health-views: ${factory}: options must be an object`);
  const name = (options as { name?: unknown }).name;
  const where = `health-views: ${factory}(${typeof name === 'string' ? JSON.stringify(name) : ''})`;
  const known = [...own, ...COMMON_OPTIONS];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new Error(`${where}: unknown option "${key}" (options: ${known.join(', ')})`);
  }
  return where;
}

/** The definition from the common options, the kind's defaults, the run and what close releases. */
export function definePolledCheck<Name extends string>(
  options: BuiltInCheckOptions<Name>,
  defaults: CheckDefaults,
  run: PolledCheck['run'],
  close?: () => void,
): BuiltInCheck<Name> {
  const optional = {
    maxAgeMs: options.maxAgeMs,
    critical: options.critical,
    failureThreshold: options.failureThreshold,
    failureGraceMs: options.failureGraceMs,
    successThreshold: options.successThreshold,
    close,
  };
  const check = {
    kind: 'polled',
    name: (options.name ?? defaults.name) as Name,
    run,
    intervalMs: options.intervalMs ?? defaults.intervalMs,
    timeoutMs: options.timeoutMs ?? defaults.timeoutMs,
    publicCause: options.publicCause ?? defaults.publicCause,
    // Absent rather than undefined: exactOptionalPropertyTypes users spread it, and a report shows what was set.
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
  } as BuiltInCheck<Name>;
  validateCheck(check); // also critical and publicCause, for every check
  return check;
}

/** A number within [min, max] (a whole one if asked), when given. */
export function numberOption(
  where: string,
  what: string,
  value: unknown,
  { min, max = Number.MAX_SAFE_INTEGER, whole = false, above = false }: NumberRule,
): void {
  if (value === undefined) return;
  const fits =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (above ? value > min : value >= min) &&
    value <= max &&
    (!whole || Number.isInteger(value));
  if (!fits) {
    const range = `${above ? 'above' : 'from'} ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}`;
    throw new Error(`${where}: ${what} must be a ${whole ? 'whole number' : 'number'} ${range} (got ${show(value)})`);
  }
}

export interface NumberRule {
  readonly min: number;
  readonly max?: number;
  readonly whole?: boolean;
  /** min itself is out. */
  readonly above?: boolean;
}

export function requiredString(where: string, what: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') {
    throw new Error(`${where}: ${what} must be a non-empty string (got ${show(value)})`);
  }
}

/** At least one limit is given: a check with none could never fail. */
export function someLimit(where: string, options: object, limits: readonly string[]): void {
  if (limits.every((limit) => (options as Record<string, unknown>)[limit] === undefined)) {
    throw new Error(`${where}: give ${limits.join(' or ')} (a check without a limit cannot fail)`);
  }
}

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Bytes for a person: `512 B`, `1.5 MiB`, `3.2 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The message of anything thrown, with its code when the message does not say it already. */
export function messageOf(error: unknown): string {
  const inner = (error as { errors?: unknown } | null)?.errors;
  let message = error instanceof Error ? error.message : String(error);
  if (message === '' && Array.isArray(inner)) message = inner.map(messageOf).join('; ');
  const code = codeOf(error);
  return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
}

/** A system error's code; an AggregateError (both address families failed) gives its first one's. */
export function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  return Array.isArray(errors) && errors.length > 0 ? codeOf(errors[0]) : undefined;
}
