#!/usr/bin/env node
// healthchecker: the probe Docker's HEALTHCHECK runs inside the accountservice image, after the
// article's Go healthchecker. The image is distroless (no shell, no curl), so Node itself GETs
// /health and turns the answer into Docker's contract: exit 0 healthy, 1 unhealthy (2 is reserved).
// It runs every few seconds in every container: it loads node:http only (no fetch: undici is slow
// to load), decides as soon as it can and exits at once. One file, no dependencies, so the image
// can copy it alone.

import { request } from 'node:http';
import { isIP } from 'node:net'; // already loaded by node:http: costs nothing

const USAGE = `Usage: healthchecker [-port=N] [-host=ADDRESS] [-path=/PATH] [-timeout=DURATION]

Sends GET http://HOST:PORT/PATH and exits 0 on HTTP 200, 1 on anything else.
A flag takes one or two dashes; its value follows = or comes as the next argument.
  -port N          port to probe, 1..65535 (default 80)
  -host ADDRESS    host name or IP address, IPv6 such as ::1 too (default 127.0.0.1)
  -path /PATH      path to GET, starting with / (default /health)
  -timeout D       deadline for the whole request: milliseconds (1500) or a Go
                   duration (500ms, 2s, 1.5s, 1m) (default 2s)
  -help, -h        print this help and exit 0
`;

/** Enough of a non-200 body to say why, kept short for `docker inspect`'s health log. */
const EXCERPT_BYTES = 200;
/** setTimeout's ceiling; a longer deadline would fire at once. */
const MAX_TIMEOUT_MS = 2_147_483_647;

interface ProbeOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly timeoutMs: number;
}

type Command =
  | { readonly kind: 'probe'; readonly options: ProbeOptions }
  | { readonly kind: 'help' }
  | { readonly kind: 'bad-usage'; readonly problem: string };

type ExitCode = 0 | 1;

const VALUE_FLAGS = ['port', 'host', 'path', 'timeout'] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];
const isValueFlag = (name: string): name is ValueFlag => (VALUE_FLAGS as readonly string[]).includes(name);

/** Go's flag syntax (-port=6767, -port 6767) plus the double-dash forms people type by habit. */
function parseArgs(args: readonly string[]): Command {
  const raw = new Map<ValueFlag, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      const rest = args[i + 1];
      if (rest !== undefined) return { kind: 'bad-usage', problem: `unexpected argument ${quote(rest)}: only flags are accepted` };
      break;
    }
    const match = /^--?([^-=][^=]*)(?:=(.*))?$/s.exec(arg);
    const name = match?.[1];
    if (match === null || name === undefined) {
      return { kind: 'bad-usage', problem: `unexpected argument ${quote(arg)}: only flags are accepted` };
    }
    const inline = match[2];
    if (name === 'help' || name === 'h') {
      if (inline !== undefined) return { kind: 'bad-usage', problem: `flag -${name} takes no value` };
      return { kind: 'help' };
    }
    if (!isValueFlag(name)) return { kind: 'bad-usage', problem: `unknown flag ${quote(arg)}` };
    let value = inline;
    if (value === undefined) {
      const next = args[i + 1];
      // "-port -timeout=1s" means a forgotten value, not a port named "-timeout=1s".
      if (next === undefined || next.startsWith('-')) return { kind: 'bad-usage', problem: `flag -${name} needs a value` };
      value = next;
      i++;
    }
    raw.set(name, value);
  }
  return validate(raw);
}

function validate(raw: ReadonlyMap<ValueFlag, string>): Command {
  const bad = (flag: ValueFlag, wants: string): Command => ({
    kind: 'bad-usage',
    problem: `invalid value ${quote(raw.get(flag) ?? '')} for -${flag}: ${wants}`,
  });

  const portText = raw.get('port') ?? '80';
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : 0;
  if (port < 1 || port > 65535) return bad('port', 'want a whole number from 1 to 65535');

  // Brackets are URL syntax; accept them from people who paste "[::1]".
  const host = (raw.get('host') ?? '127.0.0.1').replace(/^\[(.*)\]$/s, '$1');
  const isHostName = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(host);
  if (!isHostName && isIP(host) === 0) return bad('host', 'want a host name or an IPv4 or IPv6 address');

  const path = raw.get('path') ?? '/health';
  // Node refuses to send anything outside ! .. \u00ff in a path; say so here rather than throw later.
  if (!/^\/[\u0021-\u00ff]*$/.test(path)) {
    return bad('path', 'want a path starting with / (percent-encode spaces and other special characters)');
  }

  const timeoutMs = parseDuration(raw.get('timeout') ?? '2s');
  if (timeoutMs === undefined || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    return bad('timeout', 'want milliseconds (1500) or a duration such as 500ms, 2s, 1.5s or 1m, above zero and under 24 days');
  }

  return { kind: 'probe', options: { host, port, path, timeoutMs } };
}

const MS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3,
};

/** Milliseconds from "1500" or a Go duration ("1m30s", "1.5s"); undefined if it is neither. */
function parseDuration(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    ms += Number(amount) * (MS_PER_UNIT[unit ?? ''] ?? Number.NaN);
  }
  // A timer cannot wait less than a millisecond; 500us still means "very short", not "none".
  return Number.isFinite(ms) ? Math.ceil(ms) : undefined;
}

function quote(text: string): string {
  return `"${escapeControls(text)}"`;
}

/** Docker's health log shows the output as one string: keep every message on one line. */
function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

const ERROR_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed, try again',
};

function describeError(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  if (text === 'socket hang up') return 'the server closed the connection without answering';
  if (typeof code === 'string') {
    const known = ERROR_REASONS[code];
    if (known !== undefined) return known;
    if (code.startsWith('HPE_')) return `not a valid HTTP response (${text})`;
  }
  return text || (typeof code === 'string' ? code : 'unknown error');
}

function probe(options: ProbeOptions, finish: (code: ExitCode, stderrLine?: string) => void): void {
  const { host, port, path, timeoutMs } = options;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
  const fail = (reason: string): void => finish(1, `healthchecker: GET ${url}: ${reason}\n`);

  // One deadline for connect, headers and body; once the status is known it reports that instead.
  let onDeadline = (): void => fail(`timed out after ${timeoutMs} ms`);
  setTimeout(() => onDeadline(), timeoutMs);

  const req = request(
    { host, port, path, method: 'GET', agent: false, headers: { 'user-agent': 'healthchecker' } },
    (res) => {
      const status = res.statusCode ?? 0;
      // Healthy as soon as the headers say so: a body, however long, changes nothing.
      if (status === 200) return finish(0);
      if (status >= 300 && status < 400) {
        const location = res.headers.location;
        const target = location === undefined ? '' : `, Location: ${excerpt(Buffer.from(location))}`;
        return fail(`HTTP ${status} (redirects are not followed)${target}`);
      }

      // Unhealthy already; the start of the body usually says why (the failing check).
      const chunks: Buffer[] = [];
      let size = 0;
      const report = (note = ''): void => {
        const body = excerpt(Buffer.concat(chunks, size));
        fail(`HTTP ${status}${body === '' ? '' : `: ${body}`}${note}`);
      };
      onDeadline = () => report(` (body still arriving after ${timeoutMs} ms)`);
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > EXCERPT_BYTES) report();
      });
      res.on('end', () => report());
      res.on('error', () => report(' (connection lost while reading the body)'));
      res.on('close', () => report());
    },
  );
  req.on('error', (error) => fail(describeError(error)));
  req.end();
}

/** The first EXCERPT_BYTES of a body as one printable line. */
function excerpt(bytes: Buffer): string {
  const truncated = bytes.length > EXCERPT_BYTES;
  // stream: true holds back a character split by the cut instead of printing U+FFFD.
  const text = new TextDecoder().decode(bytes.subarray(0, EXCERPT_BYTES), { stream: truncated });
  return truncated ? `${escapeControls(text)}...` : escapeControls(text.trimEnd());
}

function main(): void {
  let finished = false;
  // Exit explicitly once decided: a half-read response or a lingering socket must not keep the
  // process (and Docker's health check) waiting.
  const finish = (code: ExitCode, stderrLine?: string): void => {
    if (finished) return;
    finished = true;
    if (stderrLine === undefined) process.exit(code);
    process.stderr.write(stderrLine, () => process.exit(code));
  };

  const command = parseArgs(process.argv.slice(2));
  switch (command.kind) {
    case 'help':
      process.stdout.write(USAGE, () => process.exit(0));
      return;
    case 'bad-usage':
      // 1, not 2: Docker reserves exit code 2, and a misconfigured probe is an unhealthy one.
      finish(1, `healthchecker: ${command.problem}\n${USAGE}`);
      return;
    case 'probe':
      probe(command.options, finish);
      return;
  }
}

/** A bug must still end as Docker's "unhealthy" with one line, never a stack trace and code 2+. */
function crash(error: unknown): never {
  try {
    process.stderr.write(`healthchecker: unexpected error: ${escapeControls(describeError(error))}\n`);
  } finally {
    process.exit(1);
  }
}

process.on('uncaughtException', crash);
try {
  main();
} catch (error) {
  crash(error);
}
