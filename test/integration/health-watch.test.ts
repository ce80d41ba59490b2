// /health/watch: Server-Sent Events of health transitions, bounded and closed cleanly.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
import { pino } from 'pino';
import { startTestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

interface Stream {
  readonly response: IncomingMessage;
  /** Everything received so far. */
  text(): string;
  readonly ended: Promise<void>;
  close(): void;
}

async function watch(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/health/watch`, { headers, agent: false }, (response) => {
      let received = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        received += chunk;
      });
      const ended = new Promise<void>((done) => response.once('end', done).once('close', done));
      resolve({ response, text: () => received, ended, close: () => req.destroy() });
    });
    req.once('error', reject);
    req.end();
  });
}

function events(text: string, name: string): unknown[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith(`event: ${name}\n`))
    .map((block) => JSON.parse(block.split('\ndata: ')[1]!));
}

describe('/health/watch', () => {
  it('streams a snapshot, then each transition with its cause, with heartbeats between', async () => {
    const service = await startTestApp({ testability: true, watch: { maxSubscribers: 4, heartbeatMs: 100 } });
    const stream = await watch(service.url, { 'x-request-id': 'watch-1' });
    try {
      assert.equal(stream.response.statusCode, 200);
      assert.equal(stream.response.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(stream.response.headers['cache-control'], 'no-store');
      // The headers every answer carries, though this one is written past Fastify.
      assert.equal(stream.response.headers['x-content-type-options'], 'nosniff');
      assert.equal(stream.response.headers['x-request-id'], 'watch-1');
      const snapshot = (await waitFor(() => events(stream.text(), 'snapshot')[0], {
        what: 'the snapshot event',
      })) as { views: Record<string, string>; checks: Array<{ name: string; status: string }> };
      assert.deepEqual(snapshot.views, { health: 'UP', live: 'UP', ready: 'UP', started: 'UP' });
      assert.deepEqual(
        snapshot.checks.map((c) => c.name),
        ['database', 'startup', 'event-loop', 'shutdown', 'testability'],
      );

      await fetch(`${service.url}/testability/healthy/false`);
      const transition = (await waitFor(() => events(stream.text(), 'check')[0], {
        what: 'the check event',
      })) as Record<string, unknown>;
      assert.equal(transition.check, 'testability');
      assert.equal(transition.from, 'UP');
      assert.equal(transition.to, 'DOWN');
      assert.equal(transition.publicCause, 'switched off through /testability/healthy/false');
      assert.equal(typeof transition.previousLastedMs, 'number');
      // The views it belongs to changed with it, each one event.
      const views = await waitFor(() => events(stream.text(), 'view').length === 3 && events(stream.text(), 'view'), {
        what: 'the view events',
      });
      assert.deepEqual(
        (views as Array<{ view: string; to: string }>).map((v) => `${v.view}:${v.to}`),
        ['health:DOWN', 'live:DOWN', 'ready:DOWN'],
      );
      await waitFor(() => stream.text().includes(': heartbeat\n\n'), { what: 'a heartbeat' });
    } finally {
      stream.close();
      await service.close();
    }
  });

  it('refuses watchers beyond the limit with 503, and lets one in again when another leaves', async () => {
    const service = await startTestApp({ watch: { maxSubscribers: 2, heartbeatMs: 10_000 } });
    const first = await watch(service.url);
    const second = await watch(service.url);
    try {
      const third = await fetch(`${service.url}/health/watch`);
      assert.equal(third.status, 503);
      assert.match(((await third.json()) as { message: string }).message, /too many health watchers/);
      first.close();
      const again = await waitFor(
        async () => {
          const attempt = await watch(service.url);
          if (attempt.response.statusCode === 200) return attempt;
          attempt.close();
          return undefined;
        },
        { what: 'a slot freed by the closed watcher' },
      );
      again.close();
    } finally {
      first.close();
      second.close();
      await service.close();
    }
  });

  it('is refused with 403 without the details permission', async () => {
    const service = await startTestApp({ details: 'never', watch: { maxSubscribers: 2, heartbeatMs: 10_000 } });
    try {
      const answer = await fetch(`${service.url}/health/watch`);
      assert.equal(answer.status, 403);
      assert.match(((await answer.json()) as { message: string }).message, /details permission/);
    } finally {
      await service.close();
    }
  });

  it('ends every stream with a close event when the app closes, without holding the close', async () => {
    const service = await startTestApp({ watch: { maxSubscribers: 2, heartbeatMs: 10_000 } });
    const stream = await watch(service.url);
    await waitFor(() => events(stream.text(), 'snapshot').length === 1, { what: 'the snapshot event' });
    const closing = service.close();
    await stream.ended;
    const closed = events(stream.text(), 'close') as Array<{ reason: string; at: string }>;
    assert.equal(closed.length, 1);
    assert.equal(closed[0]!.reason, 'shutting down');
    await closing;
  });

  it('closes a stream whose client stopped reading, logs it and counts it; the reader keeps its stream', async () => {
    // Only the lines about dropped watchers are kept: every flip below logs four transitions too.
    const drops: Array<{ msg: string; reason: string }> = [];
    let warnings = 0;
    const keep = (line: string): void => {
      warnings += 1;
      if (line.includes('"reason"')) drops.push(JSON.parse(line) as { msg: string; reason: string });
    };
    const logger = pino({ level: 'warn' }, { write: keep });
    const service = await startTestApp({
      testability: true,
      metrics: true,
      logger,
      watch: { maxSubscribers: 4, heartbeatMs: 10_000 },
    });
    const { port } = new URL(service.url);
    const stalled = connect(Number(port), '127.0.0.1').pause();
    stalled.write('GET /health/watch HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const reader = await watch(service.url);
    const scrape = async (): Promise<string> => service.metrics!.render();
    try {
      await waitFor(async () => /route="\/health\/watch",status_code="200"\} 2$/m.test(await scrape()), {
        what: 'both watch streams to open',
      });
      // Each flip is four events (the check, three views); the kernel's buffers fill first (about
      // 4 MB), then 64 KiB in the process, then the stream is closed. Bounded: 40000 flips.
      for (let flip = 1; flip <= 40_000 && drops.length === 0; flip += 1) {
        service.testability!.set(flip % 2 === 0);
        if (flip % 20 === 0) await turn();
      }
      const [warning] = drops;
      assert.ok(warning, `expected a warning for the stalled stream, got none among ${warnings} warning lines`);
      assert.equal(warning.reason, 'behind');
      assert.match(
        warning.msg,
        /^closed a health watch stream: it had \d+ bytes waiting and the next event would pass 65536; watchers left: 1$/,
      );
      assert.match(await scrape(), /^accountservice_health_watchers_dropped_total\{reason="behind"\} 1$/m);
      const seen = reader.text().length;
      service.testability!.set(!service.testability!.healthy);
      await waitFor(() => reader.text().length > seen, { what: 'the reader to get the next event' });
    } finally {
      stalled.destroy();
      reader.close();
      await service.close();
    }
  });
});
