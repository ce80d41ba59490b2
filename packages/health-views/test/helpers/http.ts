// Real HTTP against a real server on port 0, every wait bounded.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

export async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await Promise.race([once(server, 'listening'), timeout(5000, 'listening')]);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await Promise.race([new Promise((resolve) => server.close(resolve)), timeout(5000, 'server close')]);
}

export interface Got {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json(): any;
}

const ANSWER_MS = 5000;

/** A whole answer within 5 s; if none comes, an error that says which request and what came instead. */
export async function get(url: string, init: RequestInit = {}): Promise<Got> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(ANSWER_MS) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
  } catch (error) {
    // A fetch aborted by its signal rejects with a DOMException, which the test runner prints as {}.
    const got = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`${init.method ?? 'GET'} ${url}: expected a complete answer within ${ANSWER_MS} ms, got ${got}`, {
      cause: error,
    });
  }
}

/** A JSON health answer with the package's own type, length and cache rule, whatever a host set. */
export function assertOwnHeaders(answer: Got, body: string): void {
  const seen = ['content-type', 'content-length', 'cache-control'].map((name) => answer.headers.get(name));
  const own = ['application/json; charset=utf-8', String(Buffer.byteLength(body)), 'no-store'];
  assert.deepEqual(seen, own, `expected ${own.join(' | ')}, got ${seen.join(' | ')}`);
  assert.equal(answer.text, body);
}

/** Sends `request` as raw bytes (what fetch cannot send, e.g. an absolute-form target) and reads until the close. */
export async function exchange(base: string, request: string, ms = 5000): Promise<string> {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.end(request);
  try {
    await Promise.race([once(socket, 'close'), timeout(ms, `the answer to ${JSON.stringify(request)}`)]);
  } catch (error) {
    throw new Error(`${(error as Error).message}; got so far: ${JSON.stringify(received)}`, { cause: error });
  } finally {
    socket.destroy();
  }
  return received;
}

/** Reads a Server-Sent Events stream until `until` says it has enough, within a deadline. */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  until: (text: string) => boolean,
  ms = 5000,
): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + ms;
  while (!until(text)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out reading events; got: ${text}`);
    const chunk = await Promise.race([reader.read(), timeout(left, 'an event')]);
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => {
    setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms).unref();
  });
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers?: OutgoingHttpHeaders;
  /** Sent whole, or, with `declaredLength`, only this much of a body that long (the rest never comes). */
  readonly body?: string;
  readonly declaredLength?: number;
}

/**
 * One request with node:http, any method and headers, and its whole answer. With `declaredLength`
 * the request announces a body it never finishes: only a server that answers without reading the
 * body answers at all (the socket is destroyed once the answer is in, or at the deadline).
 */
export function rawRequest(base: string, spec: RawRequest, ms = 5000): Promise<RawAnswer> {
  const { method, path, headers = {}, body, declaredLength } = spec;
  // node:http frames no body of an OPTIONS or DELETE by itself: say its length unless it is chunked.
  const length = declaredLength ?? (body === undefined ? undefined : Buffer.byteLength(body));
  const framing = length === undefined || 'transfer-encoding' in headers ? {} : { 'content-length': String(length) };
  return new Promise((resolve, reject) => {
    // A connection of its own (agent: false): nothing left of one request can reach the next.
    const outgoing = httpRequest(`${base}${path}`, { method, headers: { ...headers, ...framing }, agent: false });
    const timer = setTimeout(() => {
      outgoing.destroy();
      reject(new Error(`timed out after ${ms} ms waiting for the answer to ${method} ${path}`));
    }, ms);
    outgoing.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    outgoing.on('response', (incoming) => {
      let text = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (text += chunk));
      incoming.on('end', () => {
        clearTimeout(timer);
        if (declaredLength !== undefined) outgoing.destroy();
        resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: text });
      });
    });
    if (declaredLength === undefined) outgoing.end(body);
    else outgoing.write(body ?? '');
  });
}

/**
 * Asks again until the status is `status`, within a deadline: for what the server frees a moment
 * after a client leaves. Each answer not taken is cancelled; the one taken is returned unread.
 */
export async function fetchUntilStatus(url: string, init: RequestInit, status: number, ms = 5000): Promise<Response> {
  const deadline = Date.now() + ms;
  const seen = new Map<number, number>();
  for (;;) {
    const signals = [AbortSignal.timeout(ms), ...(init.signal ? [init.signal] : [])];
    const response = await fetch(url, { ...init, signal: AbortSignal.any(signals) });
    if (response.status === status) return response;
    seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
    await response.body?.cancel();
    if (Date.now() >= deadline) {
      const got = [...seen].map(([other, times]) => `${other} (${times} times)`).join(', ');
      throw new Error(`expected ${status} from ${url} within ${ms} ms; got ${got}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
