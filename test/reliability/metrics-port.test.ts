// The metrics port (METRICS_PORT, a listener of its own) under the attacks the service port is
// bounded against, against the built service: clients that pipeline /metrics and never read are
// closed and memory stays bounded while /health/live answers on the service port; slowloris
// headers are closed within the service port's timeout; more than METRICS_MAX_CONNECTIONS are
// refused; a client holding the metrics port cannot hold up a graceful shutdown; and it binds
// loopback unless METRICS_HOST says otherwise.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { METRICS_MAX_CONNECTIONS } from '../../src/http/metrics-port.js';
import { SERVER_TIMEOUTS } from '../../src/http/server-timeouts.js';
import { startService, type ServiceProcess } from '../helpers/service-process.js';
import {
  openRawConnection,
  parseResponses,
  rssKb,
  shutdownEnv,
  stopWithin,
  timedGet,
  unreadingClient,
} from './support.js';
import { waitFor } from '../helpers/wait.js';
import { withDeadline } from '../helpers/deadline.js';

const running: ServiceProcess[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(running.map((service) => service.cleanup()));
});

/** The built service with a metrics port of its own on 127.0.0.1; resolves with that port too. */
async function start(env: Record<string, string> = {}): Promise<{ service: ServiceProcess; metricsPort: number }> {
  const service = await startService({ env: { METRICS_PORT: '0', ACCESS_LOG: 'off', ...env } });
  running.push(service);
  const line = service.logs.find((l) => /^Serving metrics at /.test(String(l.msg)));
  assert.ok(line, `no "Serving metrics at" line in ${JSON.stringify(service.logs)}`);
  return { service, metricsPort: Number(line.port) };
}

const SCRAPE = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n';
const MB = 1024;

/** GET with the probe timeout, 3 s. */
const probe = (url: string): ReturnType<typeof timedGet> => timedGet(url, 3000);

describe('the metrics port', () => {
  it('closes clients that pipeline /metrics and never read; RSS stays bounded and /health/live answers within 3 s', async (t) => {
    const ATTACKERS = 20;
    const ATTACK_MS = 6000;
    /** Under the 256 MiB a replica gets (stack, Kubernetes manifest), with 32 MiB to spare. */
    const RSS_LIMIT_KB = 224 * MB;
    // The liveness check's loop-delay limit at the probes' 3 s: on a shared, loaded machine the
    // first burst of connections can delay the loop past the default 1 s; the was 3.6 s.
    const { service, metricsPort } = await start({ HEALTH_EVENT_LOOP_LIMIT_MS: '3000' });
    const rssBefore = await rssKb(service.pid);
    const requests = Buffer.from(SCRAPE.repeat(1000));
    const attackUntil = Date.now() + ATTACK_MS;
    let peakKb = rssBefore;
    let connections = 0;
    // Stops the attack at once past the limit: the old code grew by gigabytes.
    const overLimit = (): boolean => peakKb >= RSS_LIMIT_KB || Date.now() >= attackUntil;
    const attackers = Array.from({ length: ATTACKERS }, async () => {
      while (!overLimit()) {
        const client = unreadingClient(metricsPort, requests);
        sockets.push(client.socket);
        connections += 1;
        const stop = setInterval(() => overLimit() && client.socket.destroy(), 50);
        await client.closed;
        clearInterval(stop);
      }
    });
    const sampler = setInterval(() => {
      rssKb(service.pid).then(
        (kb) => (peakKb = Math.max(peakKb, kb)),
        () => {},
      );
    }, 100);
    const probes: { status: number | string; ms: number }[] = [];
    const prober = (async () => {
      while (!overLimit()) {
        probes.push(await probe(`${service.url}/health/live`));
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    try {
      await withDeadline(Promise.all([...attackers, prober]), ATTACK_MS + 30_000, 'the attack to end');
    } finally {
      clearInterval(sampler);
    }
    const closed = service.logs.filter((l) => l.msg === 'closed a connection that does not read its answers').length;
    const slowest = Math.max(...probes.map((p) => p.ms));
    t.diagnostic(
      `RSS ${Math.round(rssBefore / MB)} MB before, peak ${Math.round(peakKb / MB)} MB (limit ${RSS_LIMIT_KB / MB} MB); ` +
        `${connections} unreading connections, ${closed} closed by the service; ` +
        `/health/live ${probes.length} probes, statuses ${[...new Set(probes.map((p) => p.status))].join(',')}, slowest ${slowest} ms`,
    );
    assert.ok(peakKb < RSS_LIMIT_KB, `peak RSS ${Math.round(peakKb / MB)} MB, limit ${RSS_LIMIT_KB / MB} MB`);
    assert.ok(
      closed >= ATTACKERS,
      `unreading connections closed by the service: ${closed}, expected ${ATTACKERS} or more`,
    );
    assert.ok(probes.length >= 5, `several /health/live probes during the attack, got ${probes.length}`);
    assert.deepEqual(
      probes.filter((p) => p.status !== 200),
      [],
      '/health/live answered 200 within 3 s throughout',
    );
  });

  it(`closes slowloris headers within the service port's headersTimeout (${SERVER_TIMEOUTS.headersTimeoutMs} ms)`, async (t) => {
    const { metricsPort } = await start();
    const limit = SERVER_TIMEOUTS.headersTimeoutMs + SERVER_TIMEOUTS.connectionsCheckingIntervalMs + 1500;
    const startedAt = Date.now();
    const clients = await Promise.all(Array.from({ length: 3 }, () => openRawConnection(metricsPort)));
    const drips = clients.map((client) => {
      sockets.push(client.socket);
      client.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      return setInterval(() => client.socket.write('a'), 200);
    });
    try {
      await withDeadline(
        Promise.all(clients.map((c) => c.closed)),
        limit,
        'the metrics port to close slowloris connections',
      );
    } finally {
      for (const drip of drips) clearInterval(drip);
    }
    const tookMs = Date.now() - startedAt;
    t.diagnostic(`3 slowloris connections closed after ${tookMs} ms (limit ${limit} ms)`);
    for (const client of clients) assert.match(client.received(), /^HTTP\/1\.1 408 /, 'answered 408, then closed');
  });

  it(`refuses connections over METRICS_MAX_CONNECTIONS (${METRICS_MAX_CONNECTIONS}), and logs them`, async () => {
    const { service, metricsPort } = await start();
    const held = await Promise.all(
      Array.from({ length: METRICS_MAX_CONNECTIONS }, () => openRawConnection(metricsPort)),
    );
    for (const client of held) {
      sockets.push(client.socket);
      client.socket.write(SCRAPE);
    }
    await waitFor(() => held.every((client) => parseResponses(client.received()).length === 1), {
      what: `a scrape answered on each of the ${METRICS_MAX_CONNECTIONS} connections`,
    });
    const over = await openRawConnection(metricsPort);
    sockets.push(over.socket);
    over.socket.write(SCRAPE);
    await withDeadline(over.closed, 5000, 'the connection over the limit to be closed');
    assert.equal(over.received(), '', 'closed with no answer');
    await waitFor(() => service.logs.find((l) => /^refused 1 connection to the metrics port/.test(String(l.msg))), {
      what: 'the log line about the refused connection',
    });
  });

  it('cannot hold up a graceful shutdown: a half-sent scrape is cut and the service exits 0 soon after the drain', async (t) => {
    const limits = { drainMs: 500, timeoutMs: 8000, limitMs: 500 + 2500 };
    const { service, metricsPort } = await start(shutdownEnv(limits));
    const client = await openRawConnection(metricsPort);
    sockets.push(client.socket);
    // One scrape answered, then the next one half sent, dripping: the connection is busy, not idle.
    client.socket.write(SCRAPE);
    await waitFor(() => parseResponses(client.received()).length === 1, { what: 'the first scrape' });
    client.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const drip = setInterval(() => client.socket.write('a'), 200);
    try {
      await stopWithin(service, limits, t);
    } finally {
      clearInterval(drip);
    }
  });

  it('the metrics port binds loopback whatever HOST is, and METRICS_HOST where it says', async () => {
    const scrapeAt = async (url: string): Promise<number | string> => {
      try {
        return (await fetch(url, { signal: AbortSignal.timeout(5000) })).status;
      } catch (error) {
        return ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? String(error);
      }
    };
    // HOST=::1: were the metrics port bound where the service port is, it would be on ::1 too.
    const byDefault = await startService({ env: { HOST: '::1', METRICS_PORT: '0' } });
    running.push(byDefault);
    try {
      assert.match(byDefault.url, /^http:\/\/\[::1\]:\d+$/);
      const line = byDefault.logs.find((l) => /^Serving metrics at /.test(String(l.msg)));
      assert.equal(line?.msg, `Serving metrics at http://127.0.0.1:${String(line?.port)}/metrics`);
      assert.equal(await scrapeAt(`http://127.0.0.1:${String(line?.port)}/metrics`), 200);
      assert.equal(await scrapeAt(`http://[::1]:${String(line?.port)}/metrics`), 'ECONNREFUSED');
    } finally {
      await byDefault.cleanup();
    }
    const moved = await startService({ env: { METRICS_PORT: '0', METRICS_HOST: '::1' } });
    running.push(moved);
    try {
      const line = moved.logs.find((l) => /^Serving metrics at /.test(String(l.msg)));
      assert.equal(line?.msg, `Serving metrics at http://[::1]:${String(line?.port)}/metrics`);
      assert.equal(await scrapeAt(`http://[::1]:${String(line?.port)}/metrics`), 200);
      assert.equal(await scrapeAt(`http://127.0.0.1:${String(line?.port)}/metrics`), 'ECONNREFUSED');
    } finally {
      await moved.cleanup();
    }
  });
});
