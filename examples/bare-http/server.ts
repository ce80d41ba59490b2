// A service on bare node:http (no framework) using health-views: two polled checks, two flags, the
// three Kubernetes views, and a graceful shutdown on SIGTERM (ready goes DOWN at once, then the
// server drains and closes). Run: npm run build && node --import tsx examples/bare-http/server.ts
// PORT (default 0: any free port, printed on start) and DRAIN_MS (default 1000) are its settings.

import { createServer } from 'node:http';
import { access, constants } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { createHealth, withHealth } from 'health-views';

const drainMs = Number(process.env.DRAIN_MS ?? 1000);

const health = createHealth({
  checks: [
    // Rejects when the directory is not writable: DOWN, the error text kept for details only.
    {
      name: 'disk',
      publicCause: 'the data directory is not writable',
      intervalMs: 5000,
      timeoutMs: 1000,
      run: () => access(tmpdir(), constants.W_OK),
    },
    // Returns false past the limit: DOWN, like the Go original's Check() bool.
    {
      name: 'memory',
      publicCause: 'the heap is nearly full',
      intervalMs: 2000,
      timeoutMs: 100,
      run: () => process.memoryUsage().heapUsed < 512 * 1024 * 1024,
    },
    { name: 'started', kind: 'flag', publicCause: 'still starting' },
    // Named after the bad state: healthy while false, DOWN once set to true.
    { name: 'shutdown', kind: 'flag', healthyWhen: false, publicCause: 'shutting down' },
  ],
  views: [
    { name: 'live', path: '/health/live', checks: ['memory'] },
    { name: 'ready', path: '/health/ready', checks: ['disk', 'started', 'shutdown'] },
    { name: 'started', path: '/health/started', checks: ['started'] },
  ],
});
// Every change, logged the moment it happens (a flag needs no probe to be noticed).
health.on((event) => console.log(JSON.stringify(event)));

const server = createServer(
  withHealth(health, (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    response.end('hello\n');
  }),
);

await health.start();
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: (server.address() as AddressInfo).port }));
  health.flag('started').set(true);
});

process.once('SIGTERM', () => {
  // Out of the load balancer first, while requests still get answers; then close and exit.
  health.flag('shutdown').set(true, 'SIGTERM received');
  setTimeout(() => {
    health.close('shutting down');
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  }, drainMs);
});
