// The separate metrics listener (METRICS_PORT): a bare node:http server that answers GET /metrics
// and nothing else, so scrapes never queue behind the service's traffic and can be firewalled apart.

import { createServer, type Server } from 'node:http';
import { METRICS_PATH, type Metrics } from './metrics.js';

export function createMetricsServer(metrics: Pick<Metrics, 'render' | 'contentType'>): Server {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?', 1)[0];
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
        response
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end('metrics could not be collected\n');
      },
    );
  });
  // The same bounds as the service's own listener: a slow client cannot hold a connection for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  return server;
}

/** Listens and resolves with the bound port (the one asked for, or a free one for 0). */
export function listenMetricsServer(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** Stops listening; idle keep-alive connections (Prometheus keeps one open) are closed at once. */
export function closeMetricsServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}
