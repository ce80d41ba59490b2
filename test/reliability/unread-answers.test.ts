// Clients that send requests and never read the answers, against the built service: many of them
// pipelining as fast as the service reads cannot grow its memory without bound (their connections
// are closed once too many answers wait), other clients and /health probes keep being served, and
// one such client cannot hold up a graceful shutdown once everything it asked has been answered.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startService, type ServiceProcess } from '../helpers/service-process.js';
import { waitFor } from '../helpers/wait.js';
import { rssKb, shutdownEnv, stopWithin, timedGet, unreadingClient } from './support.js';
import { withDeadline } from '../helpers/deadline.js';

const running: ServiceProcess[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
});

async function start(env: Record<string, string>): Promise<ServiceProcess> {
  const service = await startService({ env });
  running.push(service);
  return service;
}

function portOf(service: ServiceProcess): number {
  return Number(new URL(service.url).port);
}

const MB = 1024;

describe('clients that pipeline requests and never read the answers', () => {
  const ATTACKERS = 30;
  const ATTACK_MS = 8000;
  /** Under the 256 MiB that the stack and the Kubernetes manifest give a replica, with 32 MiB to spare. */
  const RSS_LIMIT_KB = 224 * MB;

  const title =
    `${ATTACKERS} of them for ${ATTACK_MS} ms: RSS stays under ${RSS_LIMIT_KB / MB} MB; ` +
    'other clients and /health are served';
  it(title, async (t) => {
    const service = await start({ ACCESS_LOG: 'off' });
    const port = portOf(service);
    for (let i = 0; i < 20; i++) assert.equal((await timedGet(`${service.url}/accounts/10000`)).status, 200);
    const rssBefore = await rssKb(service.pid);

    // A long request id comes back in every answer: more bytes to hold per request parsed.
    const request = `GET /accounts/10000 HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${'r'.repeat(128)}\r\n\r\n`;
    const requests = Buffer.from(request.repeat(100));
    const attackUntil = Date.now() + ATTACK_MS;
    let connections = 0;
    // Each attacker connects again as soon as its connection is closed, for the whole attack.
    const attackers = Array.from({ length: ATTACKERS }, async () => {
      while (Date.now() < attackUntil) {
        const client = unreadingClient(port, requests);
        connections += 1;
        const stop = setTimeout(() => client.socket.destroy(), Math.max(0, attackUntil - Date.now()));
        await client.closed;
        clearTimeout(stop);
      }
    });

    let peakKb = rssBefore;
    const sampler = setInterval(() => {
      rssKb(service.pid).then(
        (kb) => (peakKb = Math.max(peakKb, kb)),
        () => {},
      );
    }, 100);
    const answers: { path: string; status: number | string; ms: number }[] = [];
    const others = ['/health', '/accounts/10042'].map(async (path) => {
      while (Date.now() < attackUntil) {
        answers.push({ path, ...(await timedGet(`${service.url}${path}`)) });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    try {
      await withDeadline(Promise.all([...attackers, ...others]), ATTACK_MS + 30_000, 'the attack to end');
    } finally {
      clearInterval(sampler);
    }
    peakKb = Math.max(peakKb, await rssKb(service.pid));

    const overflow = /^closed a connection that does not read its answers$/;
    const closedByService = service.logs.filter((line) => overflow.test(String(line.msg)));
    const slowest = Math.max(...answers.map((answer) => answer.ms));
    const statuses = [...new Set(answers.map((answer) => answer.status))].join(',');
    t.diagnostic(
      `RSS ${Math.round(rssBefore / MB)} MB before, peak ${Math.round(peakKb / MB)} MB ` +
        `(limit ${RSS_LIMIT_KB / MB} MB); ` +
        `${connections} unreading connections, ${closedByService.length} closed by the service; ` +
        `${answers.length} answers to other clients, statuses ${statuses}, slowest ${slowest} ms`,
    );
    assert.ok(peakKb < RSS_LIMIT_KB, `peak RSS ${Math.round(peakKb / MB)} MB, limit ${RSS_LIMIT_KB / MB} MB`);
    assert.ok(closedByService.length >= ATTACKERS, `unreading connections closed: ${closedByService.length}`);
    const probes = answers.filter((answer) => answer.path === '/health');
    assert.ok(probes.length >= 3, 'several /health probes in the attack');
    assert.deepEqual(
      answers.filter((answer) => answer.status !== 200),
      [],
      'every other request and probe answered 200',
    );
    assert.equal((await timedGet(`${service.url}/health`)).status, 200, '/health after the attack');
  });
});

describe('a client that pipelines fewer requests than the answer limit, for large answers, and never reads', () => {
  it('is closed once its answers waiting in the service hold more than HTTP_MAX_QUEUED_BYTES (default 128 KiB)', async (t) => {
    const service = await start({ ACCESS_LOG: 'off' });
    const metrics = await fetch(`${service.url}/metrics`, { signal: AbortSignal.timeout(5000) });
    const answerBytes = (await metrics.arrayBuffer()).byteLength;
    // 31 answers: one under HTTP_MAX_QUEUED_RESPONSES (32), which alone would let them all wait.
    assert.ok(31 * answerBytes > 3 * 128 * 1024, `31 answers of ${answerBytes} bytes are far more than 128 KiB`);
    const client = connect(portOf(service), '127.0.0.1');
    client.pause();
    client.on('error', () => {});
    await withDeadline(new Promise((resolve) => client.once('connect', resolve)), 5000, 'the connection');
    client.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(31));
    const closed = await waitFor(
      () => service.logs.find((line) => line.msg === 'closed a connection that does not read its answers'),
      { timeoutMs: 10_000, what: 'the service to close the connection holding 31 answers of /metrics' },
    );
    client.destroy();
    const held = Number(closed.queuedBytes);
    t.diagnostic(`closed holding ${held} bytes in ${String(closed.queued)} answers (/metrics: ${answerBytes} bytes)`);
    assert.ok(
      held > 128 * 1024 && held <= 128 * 1024 + 2 * answerBytes,
      `closed holding ${held} bytes; expected just over 131072 (one answer more at most)`,
    );
    assert.equal((await timedGet(`${service.url}/health`)).status, 200, '/health after');
  });
});

describe('a graceful shutdown with a client that never reads', () => {
  /** Once the server closes, answered connections get 1000 ms to take their bytes; the rest of the limit is slack. */
  const limits = { drainMs: 500, timeoutMs: 6000, limitMs: 500 + 2500 };

  it(`exits 0 within drain + 2500 ms once every request it took is answered, not at the deadline`, async (t) => {
    // The per-connection limits are raised so that this client keeps its connection: the test is
    // about what shutdown waits for, not about the limits (the tests above are).
    const service = await start({
      ...shutdownEnv(limits),
      HTTP_MAX_QUEUED_RESPONSES: '1000',
      HTTP_MAX_QUEUED_BYTES: String(1024 ** 3),
    });
    // 450 answers of about 12 KB each, far more than the client's receive buffer and the service's
    // send buffer hold, so the last of them stay in the service, answered but unread; then the
    // start of one more request, so the connection is busy, not idle, when the server closes.
    const client = connect(portOf(service), '127.0.0.1');
    client.pause();
    client.on('error', () => {});
    let closedAt: number | undefined;
    client.on('close', () => (closedAt = Date.now()));
    await withDeadline(new Promise((resolve) => client.once('connect', resolve)), 5000, 'the connection');
    client.write(`${'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(450)}GET /accounts/10000 HTTP/1.1\r\nHo`);
    // Every request answered: the service answers another client at once again.
    await waitFor(async () => (await timedGet(`${service.url}/accounts/10000`)).ms < 100, {
      timeoutMs: 30_000,
      what: 'the service to be done with the 450 answers',
    });
    assert.equal(closedAt, undefined, 'the client still holds its connection when the signal comes');

    try {
      await stopWithin(service, limits, t);
    } finally {
      client.destroy();
    }
  });
});
