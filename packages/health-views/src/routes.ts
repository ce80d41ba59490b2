// The HTTP meaning of the health routes, framework-free: from (method, url, headers) to a complete
// answer or a stream. One disclosure gate decides for every route and query. The adapters only
// write what this returns.

import type { DisclosureGate } from './disclosure.js';
import { preferredFormat } from './negotiate.js';
import {
  HEALTH_JSON_TYPE,
  JSON_TYPE,
  TEXT_TYPE,
  renderError,
  renderHealthJson,
  renderJson,
  renderText,
  statusCodeOf,
  type Renderable,
} from './render.js';
import { sseEvent, type WatchHub } from './watch.js';
import type { CheckReport, HealthAnswer, HealthEvent, HealthRequest, HealthStream, ViewReport } from './types.js';

/** A view's plain answer, rendered when the view changes, written as is by every plain probe. */
export type PlainAnswer = HealthAnswer;

interface RoutedView {
  readonly name: string;
  readonly path: string;
  readonly plain: PlainAnswer;
  readonly members: readonly { readonly entry: { readonly name: string } }[];
}

export interface RoutesOptions {
  readonly views: readonly RoutedView[];
  readonly viewReport: (view: never, exclude: readonly string[]) => ViewReport;
  readonly checkReport: (name: string) => CheckReport | undefined;
  readonly checkNames: readonly string[];
  readonly history: () => readonly HealthEvent[];
  readonly gate: DisclosureGate;
  readonly hub: WatchHub | undefined;
  readonly watchPath: string | undefined;
  readonly checksPath: string;
  readonly serviceId: string;
  readonly snapshot: () => unknown;
}

const ALLOW = 'GET, HEAD, OPTIONS';
const DETAILS_NEEDED = 'this needs the health details permission (Authorization: Bearer <token>)';

// eslint-disable-next-line max-lines-per-function -- issue 26: to be split by job
export function createRoutes(options: RoutesOptions) {
  const { views, gate, hub, watchPath, checksPath, serviceId } = options;
  const viewReport = options.viewReport as (view: RoutedView, exclude: readonly string[]) => ViewReport;
  const byPath = new Map(views.map((view) => [view.path, view]));
  const checkPrefix = `${checksPath}/`;
  const checkRoute = `${checksPath}/:name`;
  const templates = [...views.map((view) => view.path), checksPath, checkRoute, ...(watchPath ? [watchPath] : [])];

  function answer(request: HealthRequest): HealthAnswer | HealthStream | undefined {
    const url = originForm(request.url);
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const view = byPath.get(path);
    if (view !== undefined) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return otherMethod(request.method, path);
      // The plain probe: bytes rendered when the view last changed, nothing computed here.
      if (queryAt < 0 && preferredFormat(request.headers.accept) === 'json') {
        return view.plain;
      }
      return answerView(request, view, queryAt < 0 ? '' : url.slice(queryAt + 1));
    }
    if (path === checksPath || path.startsWith(checkPrefix)) {
      const route = path === checksPath ? checksPath : checkRoute;
      if (request.method !== 'GET' && request.method !== 'HEAD') return otherMethod(request.method, route);
      if (!gate(request.headers.authorization)) {
        return error(route, 403, `the list of checks and each check's state: ${DETAILS_NEEDED}`);
      }
      if (path === checksPath) {
        return json(route, 200, JSON_TYPE, Buffer.from(JSON.stringify({ checks: options.checkNames })));
      }
      return answerCheck(request, path.slice(checkPrefix.length), queryAt < 0 ? '' : url.slice(queryAt + 1));
    }
    if (watchPath !== undefined && path === watchPath && hub !== undefined) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return otherMethod(request.method, watchPath);
      if (!gate(request.headers.authorization)) {
        return error(watchPath, 403, `watching health events: ${DETAILS_NEEDED}`);
      }
      const headers = {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      };
      // HEAD learns the stream's headers and holds no watcher slot.
      if (request.method === 'HEAD') {
        return { kind: 'answer', route: watchPath, statusCode: 200, headers, body: Buffer.alloc(0) };
      }
      if (!hub.hasRoom) return error(watchPath, 503, 'too many health watchers right now; try again later');
      return {
        kind: 'stream',
        statusCode: 200,
        headers,
        route: watchPath,
        attach: (sink) => hub.subscribe(sink, sseEvent('snapshot', options.snapshot())) ?? (() => {}),
      };
    }
    return undefined;
  }

  function answerView(request: HealthRequest, view: RoutedView, query: string): HealthAnswer {
    const parsed = parseQuery(query);
    if (typeof parsed === 'string') return error(view.path, 400, parsed);
    const allowed = gate(request.headers.authorization);
    // Which names a view holds is a detail: without the permission every ?exclude gets this same
    // 403, so a caller cannot tell a check of the view from a name it made up.
    if (parsed.exclude.length > 0 && !allowed) {
      return error(view.path, 403, `leaving checks out with ?exclude: ${DETAILS_NEEDED}`);
    }
    const known = view.members.map((member) => member.entry.name);
    const unknown = [...new Set(parsed.exclude.filter((name) => !known.includes(name)))];
    if (unknown.length > 0) {
      const more = unknown.length > 1 ? ` and ${unknown.length - 1} more` : '';
      const message = `?exclude names no check of the ${view.name} view: ${quoted(unknown[0]!)}${more}`;
      return error(view.path, 400, `${message}; its checks are: ${known.join(', ')}`);
    }
    const excluded = [...new Set(parsed.exclude)];
    const report = viewReport(view, excluded);
    const details = (parsed.details || parsed.verbose) && allowed;
    return render(request, view.path, parsed.verbose, {
      name: view.name,
      status: report.status,
      checks: report.checks,
      excluded,
      details,
      ...(details ? { history: options.history() } : {}),
      serviceId,
    });
  }

  function answerCheck(request: HealthRequest, rawName: string, query: string): HealthAnswer {
    let name: string;
    try {
      name = decodeURIComponent(rawName);
    } catch {
      return error(checkRoute, 400, 'the check name in the path is not valid percent-encoding');
    }
    const parsed = parseQuery(query);
    if (typeof parsed === 'string') return error(checkRoute, 400, parsed);
    const check = options.checkReport(name);
    if (check === undefined) {
      const names = options.checkNames.join(', ');
      return error(checkRoute, 404, `no health check named ${quoted(name)}; there are: ${names}`);
    }
    // Asked about one check, the caller wants its own verdict, critical or not.
    return render(request, checkRoute, parsed.verbose, {
      name: check.name,
      status: check.status === 'UP' ? 'UP' : 'DOWN',
      checks: [check],
      excluded: [],
      details: true,
      serviceId,
    });
  }

  function render(request: HealthRequest, route: string, verbose: boolean, input: Renderable): HealthAnswer {
    const statusCode = statusCodeOf(input.status);
    if (preferredFormat(request.headers.accept) === 'health+json') {
      return json(route, statusCode, HEALTH_JSON_TYPE, renderHealthJson(input));
    }
    if (verbose) return json(route, statusCode, TEXT_TYPE, renderText(input));
    return json(route, statusCode, JSON_TYPE, renderJson(input));
  }

  /**
   * OPTIONS learns the methods (204 with Allow, before any permission: a CORS preflight carries no
   * credentials); CORS headers are the host's to add. Any other method is refused with 405.
   */
  function otherMethod(method: string, route: string): HealthAnswer {
    if (method === 'OPTIONS') {
      const headers = { allow: ALLOW, 'cache-control': 'no-store' };
      return { kind: 'answer', route, statusCode: 204, headers, body: Buffer.alloc(0) };
    }
    const answer = error(route, 405, `health routes answer GET, HEAD and OPTIONS only`);
    return { ...answer, headers: { ...answer.headers, allow: ALLOW } };
  }

  return { answer, templates };
}

function json(route: string, statusCode: number, type: string, body: Buffer): HealthAnswer {
  return {
    kind: 'answer',
    route,
    statusCode,
    headers: { 'content-type': type, 'cache-control': 'no-store', 'content-length': String(body.length) },
    body,
  };
}

function error(route: string, statusCode: number, message: string): HealthAnswer {
  return json(route, statusCode, JSON_TYPE, renderError(statusCode, message));
}

/**
 * RFC 9112 §3.2.2: a server must accept a request target in absolute form (`GET http://host/health`,
 * as proxies send it); its path and query are what the origin form would carry.
 */
function originForm(target: string): string {
  if (target.charCodeAt(0) === 0x2f /* '/' */) return target;
  const origin = ABSOLUTE_FORM.exec(target);
  if (origin === null) return target;
  const rest = target.slice(origin[0].length);
  return rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
}

const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;

/** How much of the request's own text an error quotes: enough to recognise, never an echo. */
const QUOTED_MAX = 64;

/**
 * Text from the request, in quotes and cut short. Quoted as is: the JSON body escapes it once, so
 * an error's size is bounded by the message, not by what the request sent.
 */
function quoted(text: string): string {
  return text.length <= QUOTED_MAX ? `"${text}"` : `"${text.slice(0, QUOTED_MAX)}…"`;
}

interface Query {
  readonly verbose: boolean;
  readonly details: boolean;
  readonly exclude: readonly string[];
}

/** The query a health route understands; a string is the 400's message. Other parameters are ignored. */
function parseQuery(query: string): Query | string {
  const params = new URLSearchParams(query);
  const verbose = flag(params.getAll('verbose'), 'verbose');
  if (typeof verbose === 'string') return verbose;
  const details = flag(params.getAll('details'), 'details');
  if (typeof details === 'string') return details;
  const exclude = params
    .getAll('exclude')
    .flatMap((value) => value.split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return { verbose, details, exclude };
}

/** ?verbose, ?verbose=true|1 turn a flag on; =false|0 off; anything else is a 400. */
function flag(values: readonly string[], name: string): boolean | string {
  const last = values[values.length - 1];
  if (last === undefined) return false;
  if (last === '' || last === 'true' || last === '1') return true;
  if (last === 'false' || last === '0') return false;
  return `?${name} takes no value, true, 1, false or 0 (got ${quoted(last)})`;
}
