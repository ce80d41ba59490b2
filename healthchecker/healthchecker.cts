#!/usr/bin/env node
// healthchecker: the probe Docker's HEALTHCHECK runs inside the accountservice image, after the
// article's Go healthchecker. The image is distroless (no shell, no curl), so Node itself GETs
// /health and turns the answer into Docker's contract: exit 0 healthy, 1 unhealthy (2 is reserved).
// It runs every few seconds in every container, so its start-up is its cost: it speaks the little
// HTTP/1.1 it needs over node:net (loading node:http's client, or fetch, costs a probe more CPU than
// the whole probe does), decides as soon as it can and exits at once. It is CommonJS (.cts, built to
// .cjs) because Node's ESM loader adds to every start; bench/REPORT.md has the probe's wall time.
// One file, no dependencies, so the image copies it alone and a probe reads one file; inside, it
// goes by job: arguments, text for the health log, reading a response, the probe, main.

// The CommonJS spelling: under verbatimModuleSyntax a .cts file may not use ESM import syntax.
import net = require('node:net');

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
/** A status line is a few dozen bytes; without a line end by here the peer does not speak HTTP. */
const MAX_STATUS_LINE_BYTES = 4 * 1024;
/** node:http's own limit for a header block (--max-http-header-size). */
const MAX_HEADER_BYTES = 16 * 1024;
/** How much of a peer's first bytes to show when they are not HTTP at all. */
const GARBAGE_EXCERPT_BYTES = 40;
/** setTimeout's ceiling; a longer deadline would fire at once. */
const MAX_TIMEOUT_MS = 2_147_483_647;
/** The usage's "2s", ready-made: the default needs no duration parsing, with its regular expressions. */
const DEFAULT_TIMEOUT_MS = 2_000;

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
      if (rest !== undefined)
        return { kind: 'bad-usage', problem: `unexpected argument ${quote(rest)}: only flags are accepted` };
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
      if (next === undefined || next.startsWith('-'))
        return { kind: 'bad-usage', problem: `flag -${name} needs a value` };
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
  if (!isHostName && net.isIP(host) === 0) return bad('host', 'want a host name or an IPv4 or IPv6 address');

  const path = raw.get('path') ?? '/health';
  // It goes into the request line as Latin-1: a space or line break there would break the request.
  if (!/^\/[\u0021-\u00ff]*$/.test(path)) {
    return bad('path', 'want a path starting with / (percent-encode spaces and other special characters)');
  }

  const timeoutText = raw.get('timeout');
  const timeoutMs = timeoutText === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(timeoutText);
  if (timeoutMs === undefined || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    return bad(
      'timeout',
      'want milliseconds (1500) or a duration such as 500ms, 2s, 1.5s or 1m, above zero and under 24 days',
    );
  }

  return { kind: 'probe', options: { host, port, path, timeoutMs } };
}

const MS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3600e3,
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
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this escapes
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
  if (typeof code === 'string') {
    const known = ERROR_REASONS[code];
    if (known !== undefined) return known;
  }
  return text || (typeof code === 'string' ? code : 'unknown error');
}

const LF = 0x0a;
const CR = 0x0d;
const HTTP_PREFIX = 'HTTP/';
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})(?:[ \t][^\r\n]*)?$/;
// RFC 9110 token characters, then the value; obs-fold continuation lines are handled apart.
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/s;
const CHUNK_SIZE_LINE = /^([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?$/;
/** A chunk-size line is a few bytes, with extensions rarely more than a few dozen. */
const MAX_CHUNK_LINE_BYTES = 1024;

/** What a complete header block says. */
interface ResponseHead {
  readonly status: number;
  /** Lower-case names; repeated fields joined with ", " as RFC 9110 allows. */
  readonly headers: ReadonlyMap<string, string>;
}

/**
 * A header block (Latin-1, up to its blank line) parsed, or why it is not one. Exported, with the
 * chunked decoder, for the tests' raw HTTP client (see the end of the file).
 */
function parseHead(text: string): ResponseHead | string {
  const lines = text.split(/\r?\n/);
  const statusLine = lines[0] ?? '';
  const status = STATUS_LINE.exec(statusLine)?.[1];
  if (status === undefined) return `not a valid HTTP response (bad status line ${quote(statusLine.slice(0, 100))})`;
  const headers = new Map<string, string>();
  let previous: string | undefined;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && previous !== undefined) {
      headers.set(previous, `${headers.get(previous) ?? ''} ${line.trim()}`);
      continue;
    }
    const field = HEADER_LINE.exec(line);
    if (field === null) return `not a valid HTTP response (bad header line ${quote(line.slice(0, 100))})`;
    const name = (field[1] ?? '').toLowerCase();
    const value = field[2] ?? '';
    const earlier = headers.get(name);
    headers.set(name, earlier === undefined ? value : `${earlier}, ${value}`);
    previous = name;
  }
  return { status: Number(status), headers };
}

/**
 * The payload of a chunked body, handed to `keep` as it arrives; `done` at the last chunk (trailers
 * are not awaited) with the offset just past its size line in the bytes fed last, `malformed` when
 * the framing is broken. Returns the function to feed bytes to.
 */
function createChunkedDecoder(
  keep: (bytes: Buffer) => void,
  done: (endOffset: number) => void,
  malformed: () => void,
): (bytes: Buffer) => void {
  let line = '';
  let inData = false;
  let dataLeft = 0;
  let afterData = false;
  return (bytes) => {
    let i = 0;
    while (i < bytes.length) {
      if (inData) {
        const take = Math.min(dataLeft, bytes.length - i);
        keep(bytes.subarray(i, i + take));
        i += take;
        dataLeft -= take;
        if (dataLeft === 0) {
          inData = false;
          afterData = true;
        }
        continue;
      }
      const lf = bytes.indexOf(LF, i);
      line += bytes.toString('latin1', i, lf === -1 ? bytes.length : lf);
      if (line.length > MAX_CHUNK_LINE_BYTES) return malformed();
      if (lf === -1) return;
      i = lf + 1;
      const text = line;
      line = '';
      if (afterData) {
        // The CRLF that closes a chunk's data.
        if (text !== '' && text !== '\r') return malformed();
        afterData = false;
        continue;
      }
      const size = CHUNK_SIZE_LINE.exec(text)?.[1];
      if (size === undefined) return malformed();
      dataLeft = Number.parseInt(size, 16);
      if (dataLeft === 0) return done(i);
      inData = true;
    }
  };
}

type Finish = (code: ExitCode, stderrLine?: string) => void;

/** Where the scan of a header block stands after a chunk: its end in the chunk, more to come, or why it is not one. */
type HeadScan = { readonly end: number } | 'more' | { readonly problem: string };

/**
 * Collects one header block (up to its blank line) from chunks as they arrive, refusing at once
 * bytes that are not HTTP and blocks past node:http's size limit.
 */
function createHeadScanner() {
  let parts: Buffer[] = [];
  let size = 0;
  let lineBytes = 0;
  let inStatusLine = true;

  function notHttp(byte: number | undefined, chunk: Buffer, start: number): string | undefined {
    if (size >= HTTP_PREFIX.length || byte === HTTP_PREFIX.charCodeAt(size)) return undefined;
    const first = Buffer.concat([...parts, chunk.subarray(start)]).subarray(0, GARBAGE_EXCERPT_BYTES);
    return `not an HTTP response (it began ${quote(new TextDecoder().decode(first))})`;
  }

  function tooLong(): string | undefined {
    if (inStatusLine && size > MAX_STATUS_LINE_BYTES) {
      return `not an HTTP response (no end of the status line in its first ${MAX_STATUS_LINE_BYTES} bytes)`;
    }
    if (size > MAX_HEADER_BYTES) {
      return `not a valid HTTP response (the header block is longer than ${MAX_HEADER_BYTES} bytes)`;
    }
    return undefined;
  }

  return {
    get size() {
      return size;
    },
    /** Scans `chunk` from `start`. */
    scan(chunk: Buffer, start: number): HeadScan {
      for (let i = start; i < chunk.length; i++) {
        const byte = chunk[i];
        const garbage = notHttp(byte, chunk, start);
        if (garbage !== undefined) return { problem: garbage };
        size++;
        if (byte === LF) {
          if (lineBytes === 0 && !inStatusLine) return { end: i + 1 };
          inStatusLine = false;
          lineBytes = 0;
        } else if (byte !== CR) {
          lineBytes++;
        }
        const long = tooLong();
        if (long !== undefined) return { problem: long };
      }
      parts.push(start === 0 ? chunk : chunk.subarray(start));
      return 'more';
    },
    /** The complete block whose end `scan` found in `chunk`, parsed; the scanner starts afresh. */
    take(chunk: Buffer, start: number, end: number): ResponseHead | string {
      const head = parseHead(Buffer.concat([...parts, chunk.subarray(start, end)]).toString('latin1'));
      parts = [];
      size = 0;
      lineBytes = 0;
      inStatusLine = true;
      return head;
    },
  };
}

/** What happens to the bytes after a non-200 head, and to the connection's end. */
interface BodyReader {
  readonly data: (bytes: Buffer) => void;
  readonly end: () => void;
  readonly lost: () => void;
  readonly deadline: () => void;
}

/**
 * Unhealthy already: reads the start of the body, which usually says why (the failing check), as
 * far as the framing allows, then reports the status with that excerpt.
 */
function createBodyReader(
  status: number,
  headers: ReadonlyMap<string, string>,
  timeoutMs: number,
  fail: (reason: string) => void,
): BodyReader {
  const parts: Buffer[] = [];
  let size = 0;
  let reported = false;
  const report = (note = ''): void => {
    if (reported) return;
    reported = true;
    const body = excerpt(Buffer.concat(parts, size));
    fail(`HTTP ${status}${body === '' ? '' : `: ${body}`}${note}`);
  };
  const keep = (bytes: Buffer): void => {
    if (reported || bytes.length === 0) return;
    parts.push(bytes);
    size += bytes.length;
    if (size > EXCERPT_BYTES) report();
  };
  const lost = (): void => report(' (connection lost while reading the body)');
  const deadline = (): void => report(` (body still arriving after ${timeoutMs} ms)`);
  const length = headers.get('content-length');
  if (status === 204 || status === 304) {
    report();
    return { data: () => {}, end: lost, lost, deadline };
  }
  if (/(?:^|,)[ \t]*chunked$/i.test(headers.get('transfer-encoding') ?? '')) {
    const data = createChunkedDecoder(
      keep,
      () => report(),
      () => report(' (malformed chunked body)'),
    );
    return { data, end: lost, lost, deadline };
  }
  if (length !== undefined && /^\d+$/.test(length)) {
    // The server may keep the connection open after the body: stop at its length.
    let left = Number(length);
    if (left === 0) report();
    const data = (bytes: Buffer): void => {
      const used = bytes.subarray(0, left);
      left -= used.length;
      keep(used);
      if (left === 0) report();
    };
    return { data, end: lost, lost, deadline };
  }
  // No length: the body ends with the connection.
  return { data: keep, end: () => report(), lost, deadline };
}

/** How a response is read: its head, then, when that is not 200, its body. */
interface ResponseReading {
  readonly data: (chunk: Buffer) => void;
  readonly end: () => void;
  readonly error: (error: unknown) => void;
  readonly deadline: () => void;
}

/**
 * Reads one response from the bytes as they arrive. Healthy once a complete header block says 200;
 * not on the status line alone: a response cut or garbled inside its headers stays a failure (as it
 * was with node:http), and waiting costs nothing, since the headers come in the status line's packet.
 */
function readResponse(timeoutMs: number, healthy: () => void, fail: (reason: string) => void): ResponseReading {
  const head = createHeadScanner();
  let received = 0;
  let decided = false;
  let body: BodyReader | undefined;
  const decideHealthy = (): void => {
    decided = true;
    healthy();
  };
  // Writing the line is asynchronous: the bytes that still arrive meanwhile must change nothing.
  const decideFailed = (reason: string): void => {
    decided = true;
    fail(reason);
  };

  /** Acts on a complete header block; false when the answer is still to come (1xx). */
  const onHead = ({ status, headers }: ResponseHead): boolean => {
    // 100 Continue, 103 Early Hints: the real answer follows on the same connection.
    if (status >= 100 && status < 200 && status !== 101) return false;
    if (status === 200) decideHealthy();
    else if (status >= 300 && status < 400) {
      const location = headers.get('location');
      const target = location === undefined ? '' : `, Location: ${excerpt(Buffer.from(location, 'latin1'))}`;
      decideFailed(`HTTP ${status} (redirects are not followed)${target}`);
    } else body = createBodyReader(status, headers, timeoutMs, decideFailed);
    return true;
  };

  const data = (chunk: Buffer): void => {
    received += chunk.length;
    let offset = 0;
    while (!decided && offset < chunk.length) {
      if (body !== undefined) return body.data(offset === 0 ? chunk : chunk.subarray(offset));
      const scan = head.scan(chunk, offset);
      if (scan === 'more') return;
      if ('problem' in scan) return decideFailed(scan.problem);
      const parsed = head.take(chunk, offset, scan.end);
      if (typeof parsed === 'string') return decideFailed(parsed);
      offset = scan.end;
      onHead(parsed);
    }
  };

  return {
    data,
    end() {
      if (decided) return;
      if (body !== undefined) return body.end();
      if (received === 0) return decideFailed('the server closed the connection without answering');
      decideFailed(
        `not a valid HTTP response (the connection closed inside the header block, after ${head.size} bytes)`,
      );
    },
    error(error) {
      if (decided) return;
      // The status is known: report it with what arrived.
      if (body !== undefined) return body.lost();
      decideFailed(describeError(error));
    },
    deadline() {
      if (decided) return;
      if (body !== undefined) return body.deadline();
      decideFailed(`timed out after ${timeoutMs} ms`);
    },
  };
}

/**
 * GET over a plain TCP socket: HTTP/1.1 with Connection: close, one deadline for connect, headers
 * and body. A 200's body is never awaited; for anything else its first bytes say why.
 */
function probe(options: ProbeOptions, finish: Finish): void {
  const { host, port, path, timeoutMs } = options;
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const url = `http://${authority}${path}`;
  const reading = readResponse(
    timeoutMs,
    () => finish(0),
    (reason) => finish(1, `healthchecker: GET ${url}: ${reason}\n`),
  );
  setTimeout(reading.deadline, timeoutMs);
  const socket = net.connect({ host, port });
  socket.on('data', reading.data);
  socket.on('end', reading.end);
  socket.on('error', reading.error);
  // Latin-1, as node:http writes a request line: -path admits only \u0021-\u00ff.
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: healthchecker\r\nAccept: */*\r\nConnection: close\r\n\r\n`,
    'latin1',
  );
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

// Run as a program, not when the tests import its parser.
if (require.main === module) {
  process.on('uncaughtException', crash);
  try {
    main();
  } catch (error) {
    crash(error);
  }
}

// For the tests' raw HTTP client: one parser of responses in the repository. The CommonJS
// spelling of an export under verbatimModuleSyntax.
export = { parseHead, createChunkedDecoder };
