// Turns a view report into an HTTP status and body, in the three formats a prober may ask for:
// the article's JSON, the IETF health+json draft, and Kubernetes' verbose text. No HTTP framework
// here: routes.ts only copies what these functions return onto the reply.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { HealthDetailsMode } from '../config.js';
import type { CheckState, OverallStatus, Transition, ViewReport } from './health-registry.js';

export type HealthFormat = 'json' | 'health+json' | 'text';

export interface RenderedHealth {
  readonly statusCode: 200 | 503;
  readonly contentType: string;
  readonly body: string | Buffer;
}

export interface RenderOptions {
  readonly format: HealthFormat;
  /** Whether every check (passing ones too) with durations and history may be shown. */
  readonly details: boolean;
  /** Shown with details; oldest first. */
  readonly history?: readonly Transition[];
}

const JSON_TYPE = 'application/json; charset=utf-8';
const HEALTH_JSON_TYPE = 'application/health+json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
/** The article's answer, byte for byte, served from one buffer on the hot path. */
const UP_BODY = Buffer.from('{"status":"UP"}');

export function statusCodeOf(status: OverallStatus): 200 | 503 {
  return status === 'DOWN' ? 503 : 200;
}

/** A view's report, or one check's alone (named after the check). */
export type Renderable = Omit<ViewReport, 'view'> & { readonly view: string };

export function renderHealth(report: Renderable, options: RenderOptions): RenderedHealth {
  const statusCode = statusCodeOf(report.status);
  switch (options.format) {
    case 'text':
      return { statusCode, contentType: TEXT_TYPE, body: renderText(report, options.details) };
    case 'health+json':
      return { statusCode, contentType: HEALTH_JSON_TYPE, body: JSON.stringify(renderIetf(report, options)) };
    case 'json':
      if (report.status === 'UP' && !options.details) return { statusCode, contentType: JSON_TYPE, body: UP_BODY };
      return { statusCode, contentType: JSON_TYPE, body: JSON.stringify(renderJson(report, options)) };
  }
}

/** Without details only the checks that are not UP are named: enough to act on, nothing more. */
function visibleChecks(report: Renderable, details: boolean): readonly CheckState[] {
  return details ? report.checks : report.checks.filter((check) => check.status !== 'UP');
}

function renderJson(report: Renderable, options: RenderOptions): object {
  const checks: Record<string, object> = {};
  for (const check of visibleChecks(report, options.details)) {
    checks[check.name] = options.details
      ? {
          status: check.status,
          critical: check.critical,
          ...(check.cause === undefined ? {} : { cause: check.cause }),
          ...(check.durationMs === undefined ? {} : { durationMs: check.durationMs }),
          ...(check.lastRunAt === undefined ? {} : { lastRun: iso(check.lastRunAt) }),
          since: iso(check.since),
        }
      : { status: check.status, ...(check.cause === undefined ? {} : { cause: check.cause }) };
  }
  return {
    status: report.status,
    checks,
    ...(options.details && options.history ? { history: options.history.map(renderTransition) } : {}),
  };
}

/** A transition as JSON: in /health's details history and in /health/watch's transition events. */
export function renderTransition(t: Transition): object {
  return {
    check: t.check,
    from: t.from,
    to: t.to,
    ...(t.cause === undefined ? {} : { cause: t.cause }),
    at: iso(t.at),
    previousLastedMs: t.previousLastedMs,
  };
}

const IETF_STATUS: Record<OverallStatus, 'pass' | 'warn' | 'fail'> = { UP: 'pass', WARN: 'warn', DOWN: 'fail' };

function ietfCheckStatus(check: CheckState): 'pass' | 'warn' | 'fail' {
  if (check.status === 'UP') return 'pass';
  return check.critical ? 'fail' : 'warn';
}

/** draft-inadarei-api-health-check: checks keyed "component:measurement", each an array. */
function renderIetf(report: Renderable, options: RenderOptions): object {
  const checks: Record<string, object[]> = {};
  for (const check of visibleChecks(report, options.details)) {
    checks[`${check.name}:responseTime`] = [
      {
        componentId: check.name,
        status: ietfCheckStatus(check),
        ...(check.durationMs === undefined || !options.details
          ? {}
          : { observedValue: check.durationMs, observedUnit: 'ms' }),
        ...(check.lastRunAt === undefined || !options.details ? {} : { time: iso(check.lastRunAt) }),
        ...(check.cause === undefined ? {} : { output: check.cause }),
      },
    ];
  }
  return {
    status: IETF_STATUS[report.status],
    serviceId: 'accountservice',
    description: `${report.view} view of accountservice`,
    checks,
  };
}

/** Kubernetes' ?verbose shape: one [+]/[-] line a check, then the verdict. */
function renderText(report: Renderable, details: boolean): string {
  const lines = visibleChecks(report, details).map((check) =>
    check.status === 'UP'
      ? `[+]${check.name} ok`
      : `[-]${check.name} ${check.critical ? 'failed' : 'warning'}: ${check.cause ?? check.status.toLowerCase()}`,
  );
  lines.push(`${report.view} check ${report.status === 'DOWN' ? 'failed' : 'passed'}`);
  return `${lines.join('\n')}\n`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Picks the format: IETF when the Accept header names it, text for ?verbose, else the article's JSON. */
export function chooseFormat(accept: string | undefined, verbose: boolean): HealthFormat {
  if (accept !== undefined && accept.includes('application/health+json')) return 'health+json';
  return verbose ? 'text' : 'json';
}

/**
 * Decides whether a request may see details. With 'token', the bearer token is compared in
 * constant time (over digests, so its length leaks nothing either); a wrong token is no token.
 */
export function createDetailsPolicy(
  mode: HealthDetailsMode,
  token: string | undefined,
): (authorization: string | undefined) => boolean {
  if (mode === 'never') return () => false;
  if (mode === 'always') return () => true;
  if (token === undefined) return () => false;
  const expected = digest(token);
  return (authorization) => {
    if (authorization === undefined) return false;
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (match === null) return false;
    return timingSafeEqual(digest(match[1]!), expected);
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
