// The separate metrics listener (METRICS_PORT): a bare node:http server that answers GET /metrics
// and nothing else, so scrapes never queue behind the service's traffic and can be firewalled apart.
// It is held to the service port's bounds: its timeouts, the connection guard (queued answers and
// bytes per connection), a connection limit of its own, and a bounded close.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { guardConnections, type ConnectionGuard, type ConnectionGuardOptions } from './connection-guard.js';
import { originForm } from './request-target.js';
import { createTimedServer, type ServerTimeouts } from './server-timeouts.js';
import { METRICS_PATH, type Metrics } from '../metrics/metrics.js';

/**
 * Prometheus keeps one connection per scraping server (two for an HA pair); the rest is room for a
 * person with curl. Each may hold HTTP_MAX_QUEUED_BYTES in the process, and a packet of pipelined
 * requests costs Node's parser milliseconds per connection: fewer connections, shorter stalls.
 */
export const METRICS_MAX_CONNECTIONS = 8;

/** A scrape takes milliseconds: a connection still open this long after close() began is cut. */
export const METRICS_CLOSE_WITHIN_MS = 1000;

export interface MetricsServerOptions {
  /** The service port's timeouts. */
  readonly timeouts: ServerTimeouts;
  /** The service port's per-connection bounds. */
  readonly guard: Pick<ConnectionGuardOptions, 'maxQueuedResponses' | 'maxQueuedBytes' | 'onOverflow' | 'onRefused'>;
}

export interface MetricsServer {
  readonly server: Server;
  /** Listens and resolves with the bound port (the one asked for, or a free one for 0). */
  listen(port: number, host: string): Promise<number>;
  /**
   * Stops listening; idle connections (Prometheus keeps one open) close at once, busy ones after
   * their answer, and none outlives METRICS_CLOSE_WITHIN_MS: a client cannot hold up a shutdown.
   */
  close(): Promise<void>;
}

export function createMetricsServer(
  metrics: Pick<Metrics, 'render' | 'contentType'>,
  options: MetricsServerOptions,
): MetricsServer {
  const scrape = { contentType: metrics.contentType, render: sharedRender(metrics) };
  const server = createTimedServer(options.timeouts, (request, response) => answerScrape(scrape, request, response));
  const guard = guardConnections(server, { ...options.guard, maxConnections: METRICS_MAX_CONNECTIONS });
  return {
    server,
    listen: (port, host) => listen(server, port, host),
    close: () => closeWithin(server, guard, METRICS_CLOSE_WITHIN_MS),
  };
}

function answerScrape(
  metrics: Pick<Metrics, 'render' | 'contentType'>,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const path = originForm(request.url ?? '').split('?', 1)[0];
  if (path !== METRICS_PATH) {
    response
      .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
      .end(`only ${METRICS_PATH} is served here\n`);
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('use GET\n');
    return;
  }
  metrics.render().then(
    (text) => {
      response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : text);
    },
    () => {
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics could not be collected\n');
    },
  );
}

/**
 * Scrapes that arrive while one is rendered share its text: rendering costs milliseconds of CPU and
 * allocates, so 20 pipelining clients asking for 32 each would otherwise stall the event loop
 * (/health/live with it) for seconds. They get the same metrics they would have got a moment apart.
 */
function sharedRender(metrics: Pick<Metrics, 'render'>): () => Promise<string> {
  let rendering: Promise<string> | undefined;
  return () =>
    (rendering ??= metrics.render().finally(() => {
      rendering = undefined;
    }));
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function closeWithin(server: Server, guard: ConnectionGuard, ms: number): Promise<void> {
  if (!server.listening) return Promise.resolve();
  guard.beginClosing();
  const closed = new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
  });
  server.closeIdleConnections();
  const cut = setTimeout(() => server.closeAllConnections(), ms);
  return closed.finally(() => clearTimeout(cut));
}
