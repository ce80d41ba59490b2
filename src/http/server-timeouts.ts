// How long a slow, silent or idle client may hold a connection, the same on every listener the
// service opens (the service port, the metrics port). node:http only.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface ServerTimeouts {
  /** All request headers must arrive within this (a slowloris client is answered 408 and closed). */
  readonly headersTimeoutMs: number;
  /** The whole request, headers and body, must arrive within this. */
  readonly requestTimeoutMs: number;
  /** Idle keep-alive connections close after this. */
  readonly keepAliveTimeoutMs: number;
  /** A socket silent both ways for this long is closed, whatever it is doing. */
  readonly connectionTimeoutMs: number;
  /** How often the two timeouts above are checked: also how late they may fire. */
  readonly connectionsCheckingIntervalMs: number;
}

/**
 * The production values. Node's own defaults (headers 60 s, checked every 30 s) let a slowloris
 * client hold a socket for up to 90 s; real clients send their headers in one packet.
 */
export const SERVER_TIMEOUTS: ServerTimeouts = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  // Above typical load balancer idle timeouts (60 s), so the balancer closes first, never us mid-reuse.
  keepAliveTimeoutMs: 65_000,
  // Longer than any answer takes (lookups and health checks are bounded at about a second) and than
  // the /health/watch heartbeat, so only a dead peer meets it; above the keep-alive timeout too.
  connectionTimeoutMs: 70_000,
  connectionsCheckingIntervalMs: 1_000,
};

/** A node:http server with every timeout set (the checking interval can only be set here, at creation). */
export function createTimedServer(
  timeouts: ServerTimeouts,
  listener: (request: IncomingMessage, response: ServerResponse) => void,
): Server {
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      connectionsCheckingInterval: timeouts.connectionsCheckingIntervalMs,
    },
    listener,
  );
  server.setTimeout(timeouts.connectionTimeoutMs);
  return server;
}
