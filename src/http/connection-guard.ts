// Bounds what a client that sends requests but never reads the answers can make the service hold,
// how many connections it holds at once, and keeps such a client from holding up a graceful
// shutdown. node:http only, so it attaches to any http.Server, whoever created it (Fastify's own,
// or one from a serverFactory).
//
// Node pauses reading from a socket whose answers pile up, but resumes as soon as a pipelined
// answer moves from its response into the socket's own buffer, which nothing bounds: a pipelining
// client that never reads grows the process without limit. Here a response counts as queued from
// its request's arrival until its last byte is handed to the kernel ('finish'); a connection with
// more queued than the limit is closed. So is one whose queued answers hold more bytes than their
// limit: Node parses every request of a packet at once and an async framework answers them in one
// turn, so 31 pipelined requests whose answers are 80 KB each put 2.5 MB in the process at once.
//
// Call it once the server has its request listener (Fastify's, or a serverFactory's handler): it
// takes those listeners over, so requests of a closed connection never reach them.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { DEFAULT_MAX_QUEUED_BYTES } from '../config.js';

/** What a connection had queued when it was closed for it. */
export interface QueuedLoad {
  /** Responses not yet handed to the kernel in full. */
  readonly responses: number;
  /** Bytes of those responses still in the process (their own buffers and the socket's). */
  readonly bytes: number;
}

export interface ConnectionGuardOptions {
  /** Most responses a connection may have queued (computing, or waiting for the client to read). */
  readonly maxQueuedResponses: number;
  /** Most bytes of answers a connection may hold in the process. Default DEFAULT_MAX_QUEUED_BYTES. */
  readonly maxQueuedBytes?: number;
  /** Most connections open at once; more are closed as they arrive (server.maxConnections). Default: no limit. */
  readonly maxConnections?: number;
  /**
   * Once the server closes: how long a connection whose requests are all answered may take to
   * read its last bytes before it is closed anyway. Default 1000 ms.
   */
  readonly closingFlushMs?: number;
  /** Called when a connection is closed for queueing more responses, or more bytes, than the limit. */
  readonly onOverflow?: (socket: Socket, queued: QueuedLoad) => void;
  /**
   * Called with how many connections were refused for maxConnections: at the first, then at most
   * once per refusedReportMs while more are (so a flood of them is a line every few seconds).
   */
  readonly onRefused?: (refused: number) => void;
  /** Default 10 000 ms. */
  readonly refusedReportMs?: number;
}

export interface ConnectionGuard {
  /** True once beginClosing() was called: the server no longer takes new work. */
  readonly closing: boolean;
  /**
   * From now on, closingFlushMs later and after: a connection with no request to answer is closed,
   * and so is one whose every request has been answered (ended by the app) but whose client has
   * taken no bytes for closingFlushMs, so server.close() need not wait for a client that sends or
   * reads too slowly. Requests still being computed are waited for as before.
   */
  beginClosing(): void;
}

/** How often, while closing, connections with unread answers are looked at. */
const CLOSING_CHECK_MS = 50;

interface ConnectionState {
  /** Responses not yet handed to the kernel in full. */
  readonly queued: Set<ServerResponse>;
  /** When the client last took an answer in full: it reads, however slowly. */
  lastProgressAt: number;
}

export function guardConnections(server: Server, options: ConnectionGuardOptions): ConnectionGuard {
  const table = trackConnections(server);
  const admit = admission(table, options);
  // The app's listeners run behind admit() rather than beside it: Node parses every request of a
  // packet at once (a 64 KiB packet holds over a thousand small ones), and those that follow an
  // overflow on the same connection are dropped here instead of costing the app a full answer each.
  const appListeners = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!admit(request, response)) return;
    for (let i = 0; i < appListeners.length; i++) appListeners[i]!.call(server, request, response);
  });
  if (options.maxConnections !== undefined) limitConnections(server, options.maxConnections, options);
  return closingControl(server, table, options.closingFlushMs ?? 1000);
}

/** Every open connection and what it has queued; what the other parts of the guard share. */
interface ConnectionTable {
  readonly connections: ReadonlyMap<Socket, ConnectionState>;
  /** True once the guard began closing. */
  closing: boolean;
  stateOf(socket: Socket): ConnectionState;
  /** The 'finish' listener of every admitted response. */
  readonly onResponseFinish: (this: ServerResponse) => void;
}

function trackConnections(server: Server): ConnectionTable {
  const connections = new Map<Socket, ConnectionState>();
  const table: ConnectionTable = { connections, closing: false, stateOf, onResponseFinish };

  function stateOf(socket: Socket): ConnectionState {
    let state = connections.get(socket);
    if (state === undefined) {
      state = { queued: new Set(), lastProgressAt: Date.now() };
      connections.set(socket, state);
      socket.once('close', () => connections.delete(socket));
    }
    return state;
  }

  /**
   * One listener for every response, with no closure or once() wrapper per request: this is on the
   * path of every answer. By the time it runs Node has detached the response from its socket, so the
   * socket comes from the request.
   */
  function onResponseFinish(this: ServerResponse): void {
    const socket = this.req.socket;
    const state = connections.get(socket);
    if (state === undefined) return;
    state.queued.delete(this);
    state.lastProgressAt = Date.now();
    // Once closing, a keep-alive connection whose answers are all handed over is ended: the
    // server closed its idle connections when it began to close, and would otherwise wait for
    // this one, busy then, until the keep-alive timeout.
    if (table.closing && state.queued.size === 0) socket.end();
  }

  // Known from its first byte, not its first request: closing must find one still sending its headers.
  server.on('connection', stateOf);
  return table;
}

/** admit(request, response): counts the request in; false when its connection is closed and the app need not see it. */
function admission(
  table: ConnectionTable,
  options: ConnectionGuardOptions,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;

  function overflow(socket: Socket, queued: QueuedLoad): void {
    options.onOverflow?.(socket, queued);
    // Nothing to answer: the client does not read.
    socket.destroy();
  }

  /** After the app wrote to a pipelined response: closes the connection if it now holds too many bytes. */
  function checkQueuedBytes(response: ServerResponse): void {
    const socket = response.req.socket;
    const state = table.connections.get(socket);
    if (state === undefined || socket.destroyed) return;
    const bytes = queuedBytes(socket, state.queued);
    if (bytes > maxQueuedBytes) overflow(socket, { responses: state.queued.size, bytes });
  }

  return function admit(request, response) {
    const socket = request.socket;
    if (socket.destroyed) return drop(request);
    const state = table.stateOf(socket);
    state.queued.add(response);
    // A response that never finishes ends with its connection, and so does the state that holds it.
    response.on('finish', table.onResponseFinish);
    if (state.queued.size > options.maxQueuedResponses) {
      overflow(socket, { responses: state.queued.size, bytes: queuedBytes(socket, state.queued) });
      return drop(request);
    }
    // Behind another answer, this one is written into its own buffer until that one is sent. A
    // client that reads one answer before it asks for the next never comes here.
    if (response.socket === null) afterEachWrite(response, checkQueuedBytes);
    return true;
  };
}

function closingControl(server: Server, table: ConnectionTable, closingFlushMs: number): ConnectionGuard {
  /**
   * Once closingFlushMs have passed since closing began: a connection with nothing to answer is
   * idle or still sending a request (Node stops its header and request timeouts when the server
   * closes, so a slowloris client would hold close() to the shutdown deadline); one whose queued
   * answers are all written by the app, and whose client has taken none of them for closingFlushMs,
   * is not going to read them. Neither need be waited for. (A client that keeps sending meanwhile
   * gets 503s, which are answers like any other.)
   */
  function closeUnreadConnections(since: number): void {
    const now = Date.now();
    if (now - since < closingFlushMs) return;
    for (const [socket, state] of table.connections) {
      const nothingToAnswer = state.queued.size === 0;
      const answeredButUnread =
        now - state.lastProgressAt >= closingFlushMs && [...state.queued].every((response) => response.writableEnded);
      if (nothingToAnswer || answeredButUnread) socket.destroy();
    }
  }

  return {
    get closing() {
      return table.closing;
    },
    beginClosing() {
      if (table.closing) return;
      table.closing = true;
      const since = Date.now();
      const timer = setInterval(() => closeUnreadConnections(since), CLOSING_CHECK_MS);
      // Never the reason the process stays alive; stops with the server.
      timer.unref();
      server.once('close', () => clearInterval(timer));
    },
  };
}

/**
 * A request of a closed connection, destroyed at once, without an error: when the connection's
 * close comes, Node aborts each request still open with an error whose stack it formats, a cost
 * that adds up over the thousand or more requests one packet of pipelined requests holds. One
 * already destroyed is passed over.
 */
function drop(request: IncomingMessage): false {
  request.destroy();
  return false;
}

/**
 * Bytes of a connection's answers still in the process: the socket's buffer (the answer being
 * sent) and the buffers of the responses queued behind it, which have no socket yet.
 */
function queuedBytes(socket: Socket, queued: ReadonlySet<ServerResponse>): number {
  let bytes = socket.writableLength;
  for (const response of queued) if (response.socket === null) bytes += response.writableLength;
  return bytes;
}

/** Calls check after every write() and end() on this response (whoever calls them: Fastify, an adapter). */
function afterEachWrite(response: ServerResponse, check: (response: ServerResponse) => void): void {
  const write = response.write.bind(response) as (...args: unknown[]) => boolean;
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  response.write = ((...args: unknown[]) => {
    const accepted = write(...args);
    check(response);
    return accepted;
  }) as ServerResponse['write'];
  response.end = ((...args: unknown[]) => {
    const returned = end(...args);
    check(response);
    return returned;
  }) as ServerResponse['end'];
}

/**
 * Node closes a connection over server.maxConnections as it arrives (and emits 'drop'). Reported at
 * the first, then at most once per refusedReportMs with the count since, and once more after the
 * last: a flood is a line every few seconds, not one per connection.
 */
function limitConnections(
  server: Server,
  maxConnections: number,
  { onRefused, refusedReportMs = 10_000 }: Pick<ConnectionGuardOptions, 'onRefused' | 'refusedReportMs'>,
): void {
  server.maxConnections = maxConnections;
  let refused = 0;
  let quiet: NodeJS.Timeout | undefined;
  const report = (): void => {
    quiet = undefined;
    if (refused === 0) return;
    onRefused?.(refused);
    refused = 0;
    quiet = setTimeout(report, refusedReportMs);
    quiet.unref();
  };
  server.on('drop', () => {
    refused += 1;
    if (quiet === undefined) report();
  });
  server.once('close', () => clearTimeout(quiet));
}
