// A service on Express using health-views: the built-in event-loop and memory checks, two flags,
// the three Kubernetes views, and the graceful shutdown: at SIGTERM or SIGINT readiness answers 503
// at once while liveness stays 200; after the drain delay the server stops accepting, finishes what
// is in flight, and the process exits 0 (1 if that took longer than the timeout).
//
// Run: npm run build -w health-views && node --import tsx examples/express/server.ts
// Settings (environment): PORT (default 8080; 0 takes a free port), HOST (default: every
// interface), DRAIN_DELAY_MS (default 2000), SHUTDOWN_TIMEOUT_MS (default 5000).

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createHealth, createShutdown } from 'health-views';
import { eventLoopCheck, memoryCheck } from 'health-views/checks';
import { healthMiddleware } from 'health-views/express';
import { setting } from '../settings.js';

const port = setting('express', 'PORT', 8080, 0, 65_535);
const drainDelayMs = setting('express', 'DRAIN_DELAY_MS', 2000, 0, 600_000);
const timeoutMs = setting('express', 'SHUTDOWN_TIMEOUT_MS', 5000, 1, 600_000);

const health = createHealth({
  checks: [
    // A loop stalled for a second (its 99th percentile over the last second) is a process to replace.
    eventLoopCheck({ limitMs: 1000 }),
    // Past this heap the service should get no new work; it may still recover (collect, finish).
    memoryCheck({ maxHeapUsedBytes: 512 * 1024 * 1024 }),
    { name: 'started', kind: 'flag', publicCause: 'still starting' },
    // Named after the bad state: UP while false; the shutdown sets it to true at the first signal.
    { name: 'draining', kind: 'flag', healthyWhen: false, publicCause: 'shutting down' },
  ],
  views: [
    { name: 'live', path: '/health/live', checks: ['event-loop'] },
    { name: 'ready', path: '/health/ready', checks: ['memory', 'started', 'draining'] },
    { name: 'started', path: '/health/started', checks: ['started'] },
  ],
});
// Every change, logged the moment it happens (a flag needs no probe to be noticed).
health.on((event) => console.log(JSON.stringify(event)));

const app = express();
// First, before body parsers and compression: health requests are answered here, the rest go on.
app.use(healthMiddleware(health));
app.use(express.json({ limit: '16kb' }));
app.get('/', (_request, response) => {
  response.type('text/plain').send('hello\n');
});
app.post('/echo', (request, response) => {
  response.json({ received: request.body as unknown });
});

// The server is made here rather than by app.listen() so that the shutdown holds it before it listens.
const server = createServer(app);
// Before anything can take long: from here a SIGTERM is acted on (as PID 1, one with no handler is lost).
createShutdown({
  health,
  flag: 'draining',
  servers: [server],
  drainDelayMs,
  timeoutMs,
  // cleanup: [() => db.close()], here a service closes what it opened, each step bounded.
  onEvent: (event) => console.log(JSON.stringify({ shutdown: event })),
});

await health.start();
server.listen(port, process.env.HOST || undefined, () => {
  console.log(JSON.stringify({ listening: (server.address() as AddressInfo).port }));
  health.flag('started').set(true);
});
