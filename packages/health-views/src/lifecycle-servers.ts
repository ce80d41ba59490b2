// How the shutdown stops a server without cutting an answer: from the first signal every answer
// says `connection: close` (keep-alive clients reconnect elsewhere); at the close it stops
// accepting, ends idle connections at once (FIN) and ends each busy one right after its answer.
//
// Node's server.close() alone is not enough: it ends the connections idle at that moment, but one
// busy then answers with `connection: keep-alive` and stays open until its keep-alive timeout (or
// forever, for a client that keeps using it), and close() waits for it.

import { isHttpServer } from './lifecycle-options.js';
import type { ClosableServer, HttpServerLike, ShutdownRequest, ShutdownResponse } from './types.js';

export interface ServerStopper {
  /** From now on every answer says `connection: close`, in-flight ones too if their head is unsent. */
  drain(): void;
  /** Stops accepting; resolves once every connection has ended (idle at once, busy after their answer). */
  close(): Promise<void>;
  /** Destroys every connection left (the deadline has passed). */
  forceClose(): void;
  /** Takes the request listener off the server. */
  detach(): void;
}

type Socket = ShutdownRequest['socket'];

/** A stopper for a node:http server, or for something that closes itself (and maybe has one). */
export function createServerStopper(target: HttpServerLike | ClosableServer): ServerStopper {
  const http = isHttpServer(target) ? target : target.server;
  const connections = http === undefined ? undefined : trackConnections(http);
  return {
    drain: () => connections?.drain(),
    async close() {
      connections?.closing();
      if (isHttpServer(target)) await closeHttpServer(target);
      else await target.close();
    },
    forceClose: () => http?.closeAllConnections(),
    detach: () => connections?.detach(),
  };
}

function closeHttpServer(server: HttpServerLike): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      // Closed already, or never listened: nothing accepts, and close() would only fail.
      server.closeIdleConnections();
      resolve();
      return;
    }
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    // Node >= 19 does this inside close(); said here for the servers that do not (and for clarity).
    server.closeIdleConnections();
  });
}

interface ConnectionTracker {
  drain(): void;
  closing(): void;
  detach(): void;
}

/**
 * Knows each answer in flight and its connection. One listener for every request, and one shared
 * close handler (no closure per request): this runs on the path of every request while serving.
 */
function trackConnections(server: HttpServerLike): ConnectionTracker {
  const inFlight = new Map<ShutdownResponse, Socket>();
  let state: 'serving' | 'draining' | 'closing' = 'serving';

  function onResponseClose(this: ShutdownResponse): void {
    const socket = inFlight.get(this);
    inFlight.delete(this);
    if (state !== 'closing' || socket === undefined || socket.destroyed) return;
    // Its answer is out: end the connection unless a pipelined request on it is still being answered.
    for (const other of inFlight.values()) if (other === socket) return;
    socket.end();
  }

  function onRequest(request: ShutdownRequest, response: ShutdownResponse): void {
    if (state !== 'serving') response.setHeader('connection', 'close');
    inFlight.set(response, request.socket);
    response.on('close', onResponseClose);
  }

  function sayClose(): void {
    for (const response of inFlight.keys()) if (!response.headersSent) response.setHeader('connection', 'close');
  }

  // First, so the header is set before any listener (a health answer is written in place) writes the head.
  server.prependListener('request', onRequest);
  return {
    drain() {
      if (state !== 'serving') return;
      state = 'draining';
      sayClose();
    },
    closing() {
      state = 'closing';
      sayClose();
    },
    detach: () => server.removeListener('request', onRequest),
  };
}
