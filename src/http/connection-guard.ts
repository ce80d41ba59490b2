// Bounds what a client that sends requests but never reads the answers can make the service hold,
// and keeps such a client from holding up a graceful shutdown. node:http only, so it attaches to
// any http.Server, whoever created it (Fastify's own, or one from a serverFactory).
//
// Node pauses reading from a socket whose answers pile up, but resumes as soon as a pipelined
// answer moves from its response into the socket's own buffer, which nothing bounds: a pipelining
// client that never reads grows the process without limit. Here a response counts as queued from
// its request's arrival until its last byte is handed to the kernel ('finish'); a connection with
// more queued than the limit is closed.
//
// Call it once the server has its request listener (Fastify's, or a serverFactory's handler): it
// takes those listeners over, so requests of a closed connection never reach them.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Real clients rarely pipeline at all, and benchmark tools a few requests deep; a connection with
 * more than this many answers waiting is not reading them.
 */
export const DEFAULT_MAX_QUEUED_RESPONSES = 32;

export interface ConnectionGuardOptions {
  /** Most responses a connection may have queued (computing, or waiting for the client to read). */
  readonly maxQueuedResponses: number;
  /**
   * Once the server closes: how long a connection whose requests are all answered may take to
   * read its last bytes before it is closed anyway. Default 1000 ms.
   */
  readonly closingFlushMs?: number;
  /** Called when a connection is closed for queueing more responses than the limit. */
  readonly onOverflow?: (socket: Socket, queued: number) => void;
}

export interface ConnectionGuard {
  /** True once beginClosing() was called: the server no longer takes new work. */
  readonly closing: boolean;
  /**
   * From now on, a connection whose every request has been answered (ended by the app) but whose
   * client has taken no bytes for closingFlushMs is closed, so server.close() need not wait for a
   * client that never reads. Requests still being computed are waited for as before.
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

// eslint-disable-next-line max-lines-per-function -- issue 26: to be split by job
export function guardConnections(server: Server, options: ConnectionGuardOptions): ConnectionGuard {
  const closingFlushMs = options.closingFlushMs ?? 1000;
  const connections = new Map<Socket, ConnectionState>();
  let closing = false;

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
    if (closing && state.queued.size === 0) socket.end();
  }

  /** Counts the request in; false when its connection is closed and the app need not see it. */
  function admit(request: IncomingMessage, response: ServerResponse): boolean {
    const socket = request.socket;
    if (socket.destroyed) return false;
    const state = stateOf(socket);
    state.queued.add(response);
    // A response that never finishes ends with its connection, and so does the state that holds it.
    response.on('finish', onResponseFinish);
    if (state.queued.size <= options.maxQueuedResponses) return true;
    options.onOverflow?.(socket, state.queued.size);
    // Nothing to answer: the client does not read.
    socket.destroy();
    return false;
  }

  // The app's listeners run behind admit() rather than beside it: Node parses every request of a
  // packet at once (a 64 KiB packet holds over a thousand small ones), and those that follow an
  // overflow on the same connection are dropped here instead of costing the app a full answer each.
  const appListeners = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!admit(request, response)) return;
    for (let i = 0; i < appListeners.length; i++) appListeners[i]!.call(server, request, response);
  });

  /**
   * A connection whose queued answers are all written by the app, and whose client has taken none
   * of them for closingFlushMs, is not going to read them: closing the server need not wait for it.
   * (A client that keeps sending meanwhile gets 503s, which are answers like any other.)
   */
  function closeUnreadConnections(since: number): void {
    const now = Date.now();
    if (now - since < closingFlushMs) return;
    for (const [socket, state] of connections) {
      if (state.queued.size === 0 || now - state.lastProgressAt < closingFlushMs) continue;
      if ([...state.queued].every((response) => response.writableEnded)) socket.destroy();
    }
  }

  return {
    get closing() {
      return closing;
    },
    beginClosing() {
      if (closing) return;
      closing = true;
      const since = Date.now();
      const timer = setInterval(() => closeUnreadConnections(since), CLOSING_CHECK_MS);
      // Never the reason the process stays alive; stops with the server.
      timer.unref();
      server.once('close', () => clearInterval(timer));
    },
  };
}
