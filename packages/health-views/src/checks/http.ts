// HTTP(S) GET of a dependency, UP when its status is the expected one. Bounded in every way a
// dependency can misbehave: the check's signal ends the request at its timeout, a fresh
// connection is used and closed each run (no pool to leak), at most MAX_BODY_BYTES of the body
// are read and thrown away, and redirects are followed only when asked, a bounded number of times.
// node:http and node:https are loaded at the first run: importing the package loads neither (nor
// TLS), and a service that never checks over HTTP never loads them.

import type { IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import { abortReason, describeConnectError, hostPort } from './network.js';
import {
  checkOptionNames,
  definePolledCheck,
  messageOf,
  numberOption,
  show,
  type BuiltInCheck,
  type BuiltInCheckOptions,
} from './options.js';

/** Which statuses are UP: one, a list, or a predicate. */
export type ExpectedStatus = number | readonly number[] | ((status: number) => boolean);

/** Passed to node:https for an https: URL (a private CA, a client certificate). */
export interface HttpCheckTls {
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Default true: an unverified certificate is DOWN. */
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

export interface HttpCheckOptions<Name extends string = string> extends BuiltInCheckOptions<Name> {
  /** An absolute http: or https: URL. */
  readonly url: string | URL;
  /** Default: any 2xx. */
  readonly expectStatus?: ExpectedStatus;
  /** Sent with each request (and with redirects to the same origin only). */
  readonly headers?: Readonly<Record<string, string>>;
  /** How many redirects to follow: `false`/0 (the default: a 3xx is judged as it is), `true` (5), or a number. */
  readonly followRedirects?: boolean | number;
  readonly tls?: HttpCheckTls;
}

/** The body is read up to this and then the connection closed: a check never holds a large answer. */
export const MAX_BODY_BYTES = 64 * 1024;

const DEFAULTS = { name: 'http', intervalMs: 5000, timeoutMs: 2000, publicCause: 'an HTTP dependency is failing' };
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

interface Answer {
  readonly status: number;
  readonly location: string | undefined;
}

/** DOWN on an unexpected status, a failed connection or TLS handshake, a cut-off answer, or the timeout. */
export function httpCheck<const Name extends string = 'http'>(options: HttpCheckOptions<Name>): BuiltInCheck<Name> {
  const where = checkOptionNames('httpCheck', options, ['url', 'expectStatus', 'headers', 'followRedirects', 'tls']);
  const url = urlOption(where, options.url);
  const accepts = statusOption(where, options.expectStatus);
  const expected = describeExpected(options.expectStatus);
  const headers = headersOption(where, options.headers);
  const maxRedirects = redirectsOption(where, options.followRedirects);
  const tls = tlsOption(where, options.tls);

  async function run(signal: AbortSignal): Promise<void> {
    let current = url;
    for (let redirects = 0; ; redirects++) {
      const sameOrigin = current.origin === url.origin;
      const answer = await getOnce(current, sameOrigin ? headers : {}, tls, signal);
      const redirect = REDIRECTS.has(answer.status) && answer.location !== undefined;
      if (redirect && redirects < maxRedirects) {
        current = nextUrl(current, answer.location);
        continue;
      }
      if (accepts(answer.status)) return;
      let note = '';
      if (redirect)
        note = maxRedirects === 0 ? '; redirects are not followed' : `; more than ${maxRedirects} redirects`;
      throw new Error(`${describe(current)} answered ${answer.status} (expected ${expected}${note})`);
    }
  }
  return definePolledCheck(options, DEFAULTS, run);
}

/** One GET on its own connection: the status and Location once the body is read (bounded) or cut. */
async function getOnce(
  url: URL,
  headers: Readonly<Record<string, string>>,
  tls: RequestOptions,
  signal: AbortSignal,
): Promise<Answer> {
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const what = describe(url);
  const req = request(url, { method: 'GET', headers, agent: false, signal, ...tls });
  try {
    return await new Promise<Answer>((resolve, reject) => {
      const fail = (error: unknown): void => reject(new Error(`${what}: ${requestError(error, url, signal)}`));
      req.on('error', fail);
      req.on('response', (response) => {
        discardBody(response).then(
          () => resolve({ status: response.statusCode ?? 0, location: response.headers.location }),
          (error: unknown) => reject(new Error(`${what}: ${signal.aborted ? abortReason(signal) : messageOf(error)}`)),
        );
      });
      req.end();
    });
  } finally {
    // The connection is this run's alone: closed whatever happened, never left to a pool or the peer.
    req.destroy();
  }
}

/** Reads and drops the body until it ends or passes MAX_BODY_BYTES, then closes the connection. */
function discardBody(response: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    response.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_BODY_BYTES) {
        resolve();
        response.destroy();
      }
    });
    response.on('end', resolve);
    response.on('error', reject);
    response.on('close', () => {
      if (!response.complete && bytes <= MAX_BODY_BYTES)
        reject(new Error(`the answer was cut off after ${bytes} bytes of body`));
    });
  });
}

function requestError(error: unknown, url: URL, signal: AbortSignal): string {
  if (signal.aborted) return abortReason(signal);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return describeConnectError(error, host, hostPort(host, port));
}

/** `GET https://host:port/path`: no query and no credentials, which may carry secrets. */
function describe(url: URL): string {
  return `GET ${url.origin}${url.pathname}`;
}

function nextUrl(from: URL, location: string): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new Error(`${describe(from)} redirected to an invalid Location ${show(location)}`);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new Error(`${describe(from)} redirected to ${next.protocol} (only http: and https: are followed)`);
  }
  return next;
}

function urlOption(where: string, value: unknown): URL {
  let url: URL | undefined;
  try {
    url = value instanceof URL ? new URL(value.href) : typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    // Never the value itself: a URL given by mistake (a database's) may carry a password.
    const got = url === undefined ? 'a value that is not a URL' : `a ${url.protocol} URL`;
    throw new Error(`${where}: url must be an absolute http: or https: URL (got ${got})`);
  }
  return url;
}

function statusOption(where: string, value: unknown): (status: number) => boolean {
  if (value === undefined) return (status) => status >= 200 && status <= 299;
  if (typeof value === 'function') return (status) => (value as (status: number) => unknown)(status) === true;
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0) throw new Error(`${where}: expectStatus must not be an empty list`);
  for (const status of list) numberOption(where, 'expectStatus', status, { min: 100, max: 599, whole: true });
  return (status) => list.includes(status);
}

function describeExpected(value: ExpectedStatus | undefined): string {
  if (value === undefined) return '2xx';
  if (typeof value === 'function') return 'a status expectStatus accepts';
  return typeof value === 'number' ? String(value) : value.join(' or ');
}

function headersOption(where: string, value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${where}: headers must be an object of header names to strings`);
  }
  for (const [name, text] of Object.entries(value)) {
    if (!TOKEN.test(name)) throw new Error(`${where}: headers: ${show(name)} is not a valid header name`);
    if (typeof text !== 'string' || /[\r\n\0]/.test(text)) {
      throw new Error(`${where}: headers: the value of ${name} must be a string without CR, LF or NUL`);
    }
  }
  return { ...(value as Record<string, string>) };
}

function redirectsOption(where: string, value: unknown): number {
  if (value === undefined || value === false) return 0;
  if (value === true) return 5;
  numberOption(where, 'followRedirects', value, { min: 0, max: 20, whole: true });
  return value as number;
}

function tlsOption(where: string, value: HttpCheckTls | undefined): RequestOptions {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw new Error(`${where}: tls must be an object`);
  const known = ['ca', 'cert', 'key', 'rejectUnauthorized', 'servername'];
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new Error(`${where}: tls: unknown option "${key}" (options: ${known.join(', ')})`);
  }
  for (const key of ['ca', 'cert', 'key'] as const) {
    const pem = value[key];
    const list = Array.isArray(pem) ? (pem as unknown[]) : [pem];
    if (pem !== undefined && !list.every((item) => typeof item === 'string' || Buffer.isBuffer(item))) {
      throw new Error(`${where}: tls: ${key} must be a string or Buffer (PEM), or a list of them`);
    }
  }
  if (value.servername !== undefined && typeof value.servername !== 'string') {
    throw new Error(`${where}: tls: servername must be a string`);
  }
  if (value.rejectUnauthorized !== undefined && typeof value.rejectUnauthorized !== 'boolean') {
    throw new Error(`${where}: tls: rejectUnauthorized must be true or false`);
  }
  const { ca, ...rest } = value;
  return { ...rest, ...(ca === undefined ? {} : { ca: typeof ca === 'string' || Buffer.isBuffer(ca) ? ca : [...ca] }) };
}
