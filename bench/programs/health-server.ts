// The health library alone: raw node:http with health-views' interceptor (withHealth) answering
// GET /health from a view of one flag check, with no hooks (no request id, no metrics, no guard).
// Between raw-server.ts and this lies what health-views costs a probe; between this and the service,
// what the service adds to it (request ids and headers, the connection guard, socket timeouts,
// metrics). The first rung of the /health ladder.
//
//   PORT=0 HOST=127.0.0.1 node --import tsx bench/programs/health-server.ts     prints {"port":N} once listening

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHealth, withHealth } from 'health-views';

const NOT_FOUND = Buffer.from('{"statusCode":404,"error":"Not Found","message":"not found"}');

const health = createHealth({
  checks: [{ name: 'serving', kind: 'flag', initial: true }],
  views: [{ name: 'health', path: '/health', checks: ['serving'] }],
});
await health.start();
const server = createServer(
  { keepAliveTimeout: 65_000, requestTimeout: 10_000 },
  withHealth(health, (_request, response) => {
    response.writeHead(404, { 'content-type': 'application/json; charset=utf-8', 'content-length': NOT_FOUND.length });
    response.end(NOT_FOUND);
  }),
);

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => {
  health.close('shutting down');
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
