// Nothing reads the service's stdout (a log driver that stalls: Docker's blocking mode with
// fluentd or syslog down). Under load with the access log on, memory stays bounded and /health
// answers fast; lines beyond the log buffer are dropped and counted, and once stdout is read
// again one line says how many were lost. A stop while stdout is still stalled still exits.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { startService, type ServiceProcess } from '../helpers/service-process.js';
import { waitFor } from '../helpers/wait.js';
import { rssKb } from './support.js';
import { withDeadline } from '../helpers/deadline.js';

const running: ServiceProcess[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
});

const MB = 1024;
/** The smallest buffer LOG_BUFFER_BYTES accepts: the lines this load writes overflow it within a second. */
const LOG_BUFFER_BYTES = 64 * 1024;
const LOAD_MS = 6000;
const WORKERS = 16;
const RSS_GROWTH_LIMIT_KB = 32 * MB;
const HEALTH_LIMIT_MS = 2000;
const ENV = { LOG_BUFFER_BYTES: String(LOG_BUFFER_BYTES), SHUTDOWN_DRAIN_DELAY_MS: '0' };
const DROPPED_LINE = /^dropped \d+ log lines while stdout was blocked$/;

/** An access log line of about 700 bytes: a 200-character URL (logged twice) and a 128-character request id. */
const PATH = `/nothing/${'x'.repeat(190)}`;
const REQUEST_ID = 'r'.repeat(128);

function get(port: number, agent: Agent): Promise<number | string> {
  return new Promise((resolve) => {
    const headers = { 'x-request-id': REQUEST_ID };
    const options = { host: '127.0.0.1', port, path: PATH, agent, timeout: 10_000, headers };
    const req = request(options, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (error) => resolve(error.message));
    req.end();
  });
}

/**
 * WORKERS keep-alive clients sending requests back to back while going() says so; resolves with
 * every status (statuses, if given, is filled as answers come).
 */
async function load(
  port: number,
  going: () => boolean,
  statuses: (number | string)[] = [],
): Promise<(number | string)[]> {
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      while (going()) statuses.push(await get(port, agent));
      agent.destroy();
    }),
  );
  return statuses;
}

async function droppedTotal(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const match = /^accountservice_log_lines_dropped_total (\d+)$/m.exec(text);
  assert.ok(match, 'the metric accountservice_log_lines_dropped_total exists');
  return Number(match[1]);
}

describe('a stdout that nobody reads', () => {
  const title =
    `under load for ${LOAD_MS} ms: RSS grows less than ${RSS_GROWTH_LIMIT_KB / MB} MB, ` +
    `/health answers within ${HEALTH_LIMIT_MS} ms; then the drops are told and counted`;
  it(title, async (t) => {
    const service = await startService({ env: ENV });
    running.push(service);
    const port = Number(new URL(service.url).port);
    const stdout = service.child.stdout!;
    // From here on nothing is read: the pipe and this side's stream buffer fill, then the service's.
    stdout.pause();
    const rssBefore = await rssKb(service.pid);

    const until = Date.now() + LOAD_MS;
    const loading = load(port, () => Date.now() < until);
    let peakKb = rssBefore;
    const probes: { status: number | string; ms: number }[] = [];
    while (Date.now() < until) {
      const startedAt = Date.now();
      const status = await fetch(`${service.url}/health`, { signal: AbortSignal.timeout(10_000) }).then(
        (response) => response.status,
        (error: Error) => error.name,
      );
      probes.push({ status, ms: Date.now() - startedAt });
      peakKb = Math.max(peakKb, await rssKb(service.pid));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const statuses = await withDeadline(loading, 30_000, 'the load to end');
    peakKb = Math.max(peakKb, await rssKb(service.pid));
    const dropped = await droppedTotal(service.url);
    const slowest = Math.max(...probes.map((probe) => probe.ms));
    t.diagnostic(
      `${statuses.length} requests (each a ~700-byte access log line); RSS ${Math.round(rssBefore / MB)} MB before, ` +
        `peak ${Math.round(peakKb / MB)} MB; ${probes.length} /health probes, slowest ${slowest} ms; ` +
        `log lines dropped while stalled: ${dropped}`,
    );
    assert.deepEqual([...new Set(statuses)], [404], 'every request answered');
    assert.ok(peakKb - rssBefore < RSS_GROWTH_LIMIT_KB, `RSS grew ${Math.round((peakKb - rssBefore) / MB)} MB`);
    assert.deepEqual([...new Set(probes.map((probe) => probe.status))], [200], '/health stayed 200');
    assert.ok(slowest < HEALTH_LIMIT_MS, `slowest /health ${slowest} ms`);
    assert.ok(dropped > 0, 'lines were dropped while stdout was stalled');

    // Read again: the buffered lines come out, then one line says how many were lost.
    stdout.resume();
    const told = await waitFor(
      () => {
        const lines = service.logs.filter((line) => DROPPED_LINE.test(String(line.msg)));
        return lines.length > 0 ? lines : undefined;
      },
      { timeoutMs: 10_000, what: 'the dropped-lines line' },
    );
    const toldTotal = told.reduce((sum, line) => sum + Number(line.droppedLines), 0);
    t.diagnostic(`after reading again: ${JSON.stringify(told[0]?.msg)}; metric ${await droppedTotal(service.url)}`);
    assert.equal(told[0]?.level, 40, 'a warning');
    assert.equal(toldTotal, await droppedTotal(service.url), 'the lines tell as many as the metric counts');
  });

  it('a SIGTERM while stdout is still stalled: the service exits 0, it does not wait for stdout forever', async (t) => {
    const service = await startService({ env: ENV });
    running.push(service);
    const port = Number(new URL(service.url).port);
    service.child.stdout!.pause();
    // 2000 access log lines, about 1.4 MB: far more than the pipe, this side's stream buffer and
    // the service's log buffer hold together, so stdout is full, and stays so.
    let loadUntil = Date.now() + 30_000;
    const statuses: (number | string)[] = [];
    const loading = load(port, () => Date.now() < loadUntil, statuses);
    await waitFor(() => statuses.length >= 2000, { timeoutMs: 30_000, what: '2000 answers' });
    const signalledAt = Date.now();
    service.child.kill('SIGTERM');
    const code = await withDeadline(service.exited, 10_000, 'the service to exit with stdout stalled');
    const tookMs = Date.now() - signalledAt;
    loadUntil = 0;
    await withDeadline(loading, 15_000, 'the load to stop');
    t.diagnostic(`exit ${code} ${tookMs} ms after SIGTERM, stdout never read again`);
    assert.equal(code, 0);
  });
});
