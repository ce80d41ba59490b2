// The HTTP meaning of the health routes, framework-free: from (method, url, headers) to a complete
// answer or a stream. One disclosure gate decides for every route and query. The adapters only
// write what this returns.

import type { DisclosureGate } from './disclosure.js';
import { preferredFormat } from './negotiate.js';
import {
  HEALTH_JSON_TYPE,
  JSON_TYPE,
  STREAM_HEADERS,
  TEXT_TYPE,
  bodyAnswer,
  emptyAnswer,
  errorAnswer,
  renderHealthJson,
  renderJson,
  renderText,
  statusCodeOf,
  type Renderable,
} from './render.js';
import { sseEvent, type WatchHub } from './watch.js';
import type { CheckReport, HealthAnswer, HealthEvent, HealthRequest, HealthStream, ViewReport } from './types.js';

/** A view as the routes see it. */
export interface RoutedView {
  readonly name: string;
  readonly path: string;
  /** The view's plain answer, rendered when the view last changed: every plain probe writes it as is. */
  readonly plain: HealthAnswer;
  /** Its checks' names, in its order (what ?exclude may name). */
  readonly checkNames: readonly string[];
}

/** What the routes read of the registry: its views, and reports made on demand. */
export interface RoutesSource<View extends RoutedView> {
  readonly views: readonly View[];
  readonly checkNames: readonly string[];
  readonly viewReport: (view: View, exclude: readonly string[]) => ViewReport;
  readonly checkReport: (name: string) => CheckReport | undefined;
  readonly history: () => readonly HealthEvent[];
  /** The first event of a watch stream: every view's and check's state now. */
  readonly snapshot: () => unknown;
}

export interface RoutesOptions<View extends RoutedView> {
  readonly source: RoutesSource<View>;
  readonly gate: DisclosureGate;
  readonly hub: Pick<WatchHub, 'hasRoom' | 'closed' | 'subscribe'> | undefined;
  readonly watchPath: string | undefined;
  readonly checksPath: string;
  readonly serviceId: string;
}

export interface Routes {
  readonly answer: (request: HealthRequest) => HealthAnswer | HealthStream | undefined;
  /** Every route template answered (views, `<checksPath>/:name`, watch). */
  readonly templates: readonly string[];
}

const ALLOW = 'GET, HEAD, OPTIONS';
const DETAILS_NEEDED = 'this needs the health details permission (Authorization: Bearer <token>)';

/** The options, with what the per-check route needs worked out once. */
interface Context<View extends RoutedView> extends RoutesOptions<View> {
  /** `<checksPath>/`: what a path for one check starts with. */
  readonly checkPrefix: string;
  /** `<checksPath>/:name`: its route template. */
  readonly checkRoute: string;
}

/** A request on the route the answer is for, with its query apart. */
interface Routed {
  readonly request: HealthRequest;
  readonly path: string;
  /** After the `?`; empty without one. */
  readonly query: string;
}

export function createRoutes<View extends RoutedView>(options: RoutesOptions<View>): Routes {
  const { source, watchPath, checksPath } = options;
  const context: Context<View> = { ...options, checkPrefix: `${checksPath}/`, checkRoute: `${checksPath}/:name` };
  const byPath = new Map(source.views.map((view) => [view.path, view]));
  const templates = [...byPath.keys(), checksPath, context.checkRoute, ...(watchPath ? [watchPath] : [])];

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
      return answerView(context, view, { request, path, query: queryAt < 0 ? '' : url.slice(queryAt + 1) });
    }
    if (path === checksPath || path.startsWith(context.checkPrefix)) {
      return answerChecks(context, { request, path, query: queryAt < 0 ? '' : url.slice(queryAt + 1) });
    }
    if (path === watchPath) return answerWatch(context, request);
    return undefined;
  }

  return { answer, templates };
}

function answerView<View extends RoutedView>(
  { source, gate, serviceId }: Context<View>,
  view: View,
  { request, query }: Routed,
): HealthAnswer {
  const parsed = parseQuery(query);
  if (typeof parsed === 'string') return errorAnswer(view.path, 400, parsed);
  const allowed = gate(request.headers.authorization);
  // Which names a view holds is a detail: without the permission every ?exclude gets this same
  // 403, so a caller cannot tell a check of the view from a name it made up.
  if (parsed.exclude.length > 0 && !allowed) {
    return errorAnswer(view.path, 403, `leaving checks out with ?exclude: ${DETAILS_NEEDED}`);
  }
  const known = view.checkNames;
  const unknown = [...new Set(parsed.exclude.filter((name) => !known.includes(name)))];
  if (unknown.length > 0) {
    const more = unknown.length > 1 ? ` and ${unknown.length - 1} more` : '';
    const message = `?exclude names no check of the ${view.name} view: ${quoted(unknown[0]!)}${more}`;
    return errorAnswer(view.path, 400, `${message}; its checks are: ${known.join(', ')}`);
  }
  const excluded = [...new Set(parsed.exclude)];
  const report = source.viewReport(view, excluded);
  const details = (parsed.details || parsed.verbose) && allowed;
  return render(request, view.path, parsed.verbose, {
    name: view.name,
    status: report.status,
    checks: report.checks,
    excluded,
    details,
    ...(details ? { history: source.history() } : {}),
    serviceId,
  });
}

/** `<checksPath>` (the names) and `<checksPath>/<name>` (one check): details, behind the gate. */
function answerChecks<View extends RoutedView>(context: Context<View>, routed: Routed): HealthAnswer {
  const { request, path } = routed;
  const { checksPath, source } = context;
  const route = path === checksPath ? checksPath : context.checkRoute;
  if (request.method !== 'GET' && request.method !== 'HEAD') return otherMethod(request.method, route);
  if (!context.gate(request.headers.authorization)) {
    return errorAnswer(route, 403, `the list of checks and each check's state: ${DETAILS_NEEDED}`);
  }
  if (path === checksPath) {
    return bodyAnswer(route, 200, JSON_TYPE, Buffer.from(JSON.stringify({ checks: source.checkNames })));
  }
  return answerCheck(context, route, path.slice(context.checkPrefix.length), routed);
}

function answerCheck<View extends RoutedView>(
  { source, serviceId }: Context<View>,
  route: string,
  rawName: string,
  { request, query }: Routed,
): HealthAnswer {
  let name: string;
  try {
    name = decodeURIComponent(rawName);
  } catch {
    return errorAnswer(route, 400, 'the check name in the path is not valid percent-encoding');
  }
  const parsed = parseQuery(query);
  if (typeof parsed === 'string') return errorAnswer(route, 400, parsed);
  const check = source.checkReport(name);
  if (check === undefined) {
    const names = source.checkNames.join(', ');
    return errorAnswer(route, 404, `no health check named ${quoted(name)}; there are: ${names}`);
  }
  // Asked about one check, the caller wants its own verdict, critical or not: judged as critical
  // here, so the status, the health+json component and the text all say the same.
  return render(request, route, parsed.verbose, {
    name: check.name,
    status: check.status === 'UP' ? 'UP' : 'DOWN',
    checks: [{ ...check, critical: true }],
    excluded: [],
    details: true,
    serviceId,
  });
}

/** The watch stream (Server-Sent Events): behind the gate, bounded in watchers by the hub. */
function answerWatch<View extends RoutedView>(
  { source, gate, hub, watchPath }: Context<View>,
  request: HealthRequest,
): HealthAnswer | HealthStream | undefined {
  if (hub === undefined || watchPath === undefined) return undefined;
  if (request.method !== 'GET' && request.method !== 'HEAD') return otherMethod(request.method, watchPath);
  if (!gate(request.headers.authorization)) {
    return errorAnswer(watchPath, 403, `watching health events: ${DETAILS_NEEDED}`);
  }
  if (hub.closed) return errorAnswer(watchPath, 503, 'health is closed (the service is stopping): no more watchers');
  // HEAD learns the stream's headers and holds no watcher slot.
  if (request.method === 'HEAD') return emptyAnswer(watchPath, 200, STREAM_HEADERS);
  if (!hub.hasRoom) return errorAnswer(watchPath, 503, 'too many health watchers right now; try again later');
  return {
    kind: 'stream',
    statusCode: 200,
    headers: STREAM_HEADERS,
    route: watchPath,
    attach: (sink) => hub.subscribe(sink, sseEvent('snapshot', source.snapshot())) ?? (() => {}),
  };
}

function render(request: HealthRequest, route: string, verbose: boolean, input: Renderable): HealthAnswer {
  const statusCode = statusCodeOf(input.status);
  if (preferredFormat(request.headers.accept) === 'health+json') {
    return bodyAnswer(route, statusCode, HEALTH_JSON_TYPE, renderHealthJson(input));
  }
  if (verbose) return bodyAnswer(route, statusCode, TEXT_TYPE, renderText(input));
  return bodyAnswer(route, statusCode, JSON_TYPE, renderJson(input));
}

/**
 * OPTIONS learns the methods (204 with Allow, before any permission: a CORS preflight carries no
 * credentials); CORS headers are the host's to add. Any other method is refused with 405.
 */
function otherMethod(method: string, route: string): HealthAnswer {
  if (method === 'OPTIONS') return emptyAnswer(route, 204, { allow: ALLOW });
  const answer = errorAnswer(route, 405, `health routes answer GET, HEAD and OPTIONS only`);
  return { ...answer, headers: { ...answer.headers, allow: ALLOW } };
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
