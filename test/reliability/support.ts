// Small tools shared by the reliability tests (not a test file itself).

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import healthchecker from '../../healthchecker/healthchecker.cjs';
import { withDeadline } from '../helpers/deadline.js';
import type { ServiceProcess } from '../helpers/service-process.js';

const { createChunkedDecoder, parseHead } = healthchecker;

/** The resident set size of a process in kB, from /proc/PID/status (Linux). */
export async function rssKb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence, run after run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RawResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface RawExchange {
  /** Every complete response the server sent, in order. */
  readonly responses: RawResponse[];
  /** Everything received, as latin1 text. */
  readonly received: string;
  /** True when the server closed or reset the connection; false when we gave up waiting. */
  readonly closedByServer: boolean;
}

/**
 * Writes bytes on a fresh TCP connection, half-closes it (unless keepOpen), and collects what the
 * server answers until it closes the connection or timeoutMs pass. headRequests: how many of the
 * requests sent are HEAD (their responses carry no body).
 */
export async function rawExchange(
  port: number,
  bytes: string | Buffer,
  options: { timeoutMs?: number; keepOpen?: boolean; headRequests?: boolean[] } = {},
): Promise<RawExchange> {
  const { connect } = await import('node:net');
  const timeoutMs = options.timeoutMs ?? 3000;
  return new Promise<RawExchange>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const received = Buffer.concat(chunks).toString('latin1');
      resolve({ responses: parseResponses(received, options.headRequests ?? []), received, closedByServer });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') {
        done = true;
        clearTimeout(timer);
        reject(error);
      } else {
        finish(true); // a reset by the server ends the exchange as a close does
      }
    });
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      socket.write(bytes);
      if (!options.keepOpen) socket.end();
    });
  });
}

/** Splits a byte stream of HTTP/1.1 responses; an incomplete tail is ignored. */
export function parseResponses(text: string, headRequests: readonly boolean[] = []): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    // The healthchecker's own parser: one reading of HTTP in the repository, tested by both.
    const head = parseHead(rest.slice(0, end));
    if (typeof head === 'string') throw new Error(`${head}: ${JSON.stringify(rest.slice(0, 200))}`);
    const { status } = head;
    const headers = Object.fromEntries(head.headers);
    let bodyStart = end + 4;
    let body = '';
    const noBody = headRequests[responses.length] === true || status === 204 || status === 304 || status < 200;
    if (noBody) {
      // nothing follows the head
    } else if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      let endOffset: number | undefined;
      let malformed = false;
      const feed = createChunkedDecoder(
        (bytes) => parts.push(Buffer.from(bytes)),
        (offset) => (endOffset = offset),
        () => (malformed = true),
      );
      feed(Buffer.from(rest.slice(bodyStart), 'latin1'));
      if (malformed)
        throw new Error(`malformed chunked body: ${JSON.stringify(rest.slice(bodyStart, bodyStart + 200))}`);
      if (endOffset === undefined) return responses;
      body = Buffer.concat(parts).toString('latin1');
      // The empty trailer section's CRLF follows the last chunk's size line.
      bodyStart += endOffset + 2;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (rest.length < bodyStart + length) break;
      body = rest.slice(bodyStart, bodyStart + length);
      bodyStart += length;
    } else {
      body = rest.slice(bodyStart);
      bodyStart = rest.length;
    }
    responses.push({ status, headers, body });
    rest = rest.slice(bodyStart);
  }
  return responses;
}

/** Stack frames, internal paths and module names that must never reach a client. */
export function leaksIn(body: string, alsoSecret: readonly string[] = []): string[] {
  const found: string[] = [];
  if (/\n\s*at\s|\bat\s+\S+\s+\(|\bat\s+(?:file:|node:|\/)/.test(body)) found.push('a stack frame');
  for (const needle of ['node_modules', '/work/', 'node:internal', ...alsoSecret]) {
    if (needle !== '' && body.includes(needle)) found.push(needle);
  }
  return found;
}

/** A raw TCP connection to 127.0.0.1:port that keeps everything it receives; resolves once connected. */
export async function openRawConnection(
  port: number,
): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('latin1').on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await withDeadline(new Promise((resolve) => socket.once('connect', resolve)), 5000, 'the connection');
  return { socket, received: () => received, closed };
}

/**
 * A client that writes pipelined requests as fast as the service reads them and never reads a
 * byte of the answers (its receive buffer fills, then the service's send buffer). closed resolves
 * when the connection is closed, by the service or by the test.
 */
export function unreadingClient(port: number, requests: Buffer): { socket: Socket; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  socket.pause();
  const pump = (): void => {
    while (!socket.destroyed && socket.write(requests));
  };
  socket.on('connect', pump);
  socket.on('drain', pump);
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, closed };
}

/** GET, bounded by timeoutMs: the status (or the error's name) and how long the answer took. */
export async function timedGet(url: string, timeoutMs = 15_000): Promise<{ status: number | string; ms: number }> {
  const startedAt = Date.now();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return { status: response.status, ms: Date.now() - startedAt };
  } catch (error) {
    return { status: (error as Error).name, ms: Date.now() - startedAt };
  }
}

/** A graceful stop's settings (SHUTDOWN_DRAIN_DELAY_MS, SHUTDOWN_TIMEOUT_MS) and the time it must take less than. */
export interface StopLimits {
  readonly drainMs: number;
  readonly timeoutMs: number;
  /** The exit must come sooner than this after SIGTERM. */
  readonly limitMs: number;
}

/** The environment that gives the service these drain and timeout settings. */
export function shutdownEnv({ drainMs, timeoutMs }: StopLimits): Record<string, string> {
  return { SHUTDOWN_DRAIN_DELAY_MS: String(drainMs), SHUTDOWN_TIMEOUT_MS: String(timeoutMs) };
}

/**
 * Sends SIGTERM and waits for the exit (bounded: past the service's own deadline, plus 5 s); says
 * when it came, and asserts exit 0 sooner than limitMs after the signal. Resolves with that time.
 */
export async function stopWithin(service: ServiceProcess, limits: StopLimits, t: TestContext): Promise<number> {
  const { drainMs, timeoutMs, limitMs } = limits;
  const signalledAt = Date.now();
  service.child.kill('SIGTERM');
  const code = await withDeadline(service.exited, timeoutMs + drainMs + 5000, 'the service to exit');
  const tookMs = Date.now() - signalledAt;
  t.diagnostic(
    `exit ${code} ${tookMs} ms after SIGTERM (drain ${drainMs} ms, limit ${limitMs} ms, deadline ${drainMs + timeoutMs} ms)`,
  );
  assert.equal(code, 0, `exit code; last lines: ${JSON.stringify(service.logs.slice(-3))}`);
  assert.ok(tookMs < limitMs, `exited ${tookMs} ms after SIGTERM, limit ${limitMs} ms`);
  return tookMs;
}
