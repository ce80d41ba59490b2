// A service on bare node:http (no framework) using health-views: two polled checks, two flags, the
// three Kubernetes views, and the graceful shutdown: at SIGTERM or SIGINT readiness answers 503 at
// once while liveness stays 200; after the drain delay the server stops accepting, finishes what
// is in flight, and the process exits 0 (1 if that took longer than the timeout).
//
// Run: npm run build -w health-views && node --import tsx examples/bare-http/server.ts
// Settings (environment): PORT (default 8080; 0 takes a free port), HOST (default: every
// interface), DRAIN_DELAY_MS (default 2000), SHUTDOWN_TIMEOUT_MS (default 5000).

import { createServer } from 'node:http';
import { access, constants } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { createHealth, createShutdown, withHealth } from 'health-views';

/** A whole number from the environment, or one clear line and exit 1. */
function setting(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`bare-http: ${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`);
    process.exit(1);
  }
  return value;
}

const port = setting('PORT', 8080, 0, 65_535);
const drainDelayMs = setting('DRAIN_DELAY_MS', 2000, 0, 600_000);
const timeoutMs = setting('SHUTDOWN_TIMEOUT_MS', 5000, 1, 600_000);

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
    // Named after the bad state: UP while false; the shutdown sets it to true at the first signal.
    { name: 'draining', kind: 'flag', healthyWhen: false, publicCause: 'shutting down' },
  ],
  views: [
    { name: 'live', path: '/health/live', checks: ['memory'] },
    { name: 'ready', path: '/health/ready', checks: ['disk', 'started', 'draining'] },
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
