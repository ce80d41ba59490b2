// GET /metrics over real HTTP on 127.0.0.1:0, after real requests and real health transitions:
// the scrape is parsed from the Prometheus text format and its values asserted one by one.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';
import { SERVER_TIMEOUTS } from '../../src/http/server-timeouts.js';
import { createMetricsServer, type MetricsServer } from '../../src/http/metrics-port.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';
import { withDeadline } from '../helpers/deadline.js';

const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const ROUTE = '/accounts/:accountId';
const DURATION = 'accountservice_http_request_duration_seconds';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Scrape {
  readonly samples: readonly Sample[];
  /** Metric name -> type, from the # TYPE lines. */
  readonly types: ReadonlyMap<string, string>;
}

/** A small parser for the Prometheus text format (version 0.0.4), enough for what prom-client writes. */
function parseScrape(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/y;
    const body = match[2] ?? '';
    let consumed = 0;
    for (;;) {
      labelPattern.lastIndex = consumed;
      const label = labelPattern.exec(body);
      if (label === null) break;
      labels[label[1]!] = label[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      consumed = labelPattern.lastIndex;
    }
    assert.equal(consumed, body.length, `unparsed labels in ${line}`);
    const raw = match[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    assert.ok(!Number.isNaN(value) || raw === 'NaN' || raw === 'Nan', `bad value in ${line}`);
    samples.push({ name: match[1]!, labels, value });
  }
  return { samples, types };
}

/** Samples named name whose labels include every label given. */
function find(scrape: Scrape, name: string, labels: Record<string, string> = {}): Sample[] {
  return scrape.samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
}

/** The one sample named name with exactly these labels' values; fails when there is none or several. */
function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = find(scrape, name, labels).filter((s) => Object.keys(s.labels).length === Object.keys(labels).length);
  assert.equal(found.length, 1, `expected one ${name}${JSON.stringify(labels)}, found ${JSON.stringify(found)}`);
  return found[0]!.value;
}

async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), PROMETHEUS_TYPE);
  return parseScrape(await response.text());
}

async function get(url: string, path: string): Promise<number> {
  const response = await fetch(`${url}${path}`);
  await response.arrayBuffer();
  return response.status;
}

describe('request metrics', () => {
  let service: TestApp;
  before(async () => {
    service = await startTestApp({ metrics: true });
  });
  after(() => service.close());

  test('counts each request once under its route template and status, unknown URLs under "unmatched"', async () => {
    const { url } = service;
    for (let i = 0; i < 3; i++) assert.equal(await get(url, '/accounts/10000'), 200);
    assert.equal(await get(url, '/accounts/10001'), 200);
    assert.equal(await get(url, '/accounts/99999'), 404);
    assert.equal(await get(url, '/accounts/99998'), 404);
    assert.equal(await get(url, '/accounts/not-a-number'), 400);
    for (const path of ['/no/such/thing', '/no/such/thing/1?x=2', '/accounts', '/wp-login.php']) {
      assert.equal(await get(url, path), 404);
    }

    const metrics = await scrape(url);
    assert.equal(metrics.types.get(DURATION), 'histogram');
    const count = (labels: Record<string, string>) => value(metrics, `${DURATION}_count`, labels);
    assert.equal(count({ method: 'GET', route: ROUTE, status_code: '200' }), 4);
    assert.equal(count({ method: 'GET', route: ROUTE, status_code: '404' }), 2);
    assert.equal(count({ method: 'GET', route: ROUTE, status_code: '400' }), 1);
    assert.equal(count({ method: 'GET', route: 'unmatched', status_code: '404' }), 4);

    // No raw URL ever becomes a label value: the routes seen are the templates and "unmatched".
    const routes = new Set(find(metrics, `${DURATION}_count`).map((s) => s.labels.route));
    assert.deepEqual([...routes].sort(), [ROUTE, 'unmatched'].sort());
  });

  test('the histogram is consistent: cumulative buckets ending at the count, a positive sum', async () => {
    await get(service.url, '/accounts/10002');
    const metrics = await scrape(service.url);
    const labels = { method: 'GET', route: ROUTE, status_code: '200' };
    const buckets = find(metrics, `${DURATION}_bucket`, labels);
    const bounds = buckets.map((b) => (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)));
    assert.deepEqual(bounds, [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, Infinity], 'few buckets, in seconds');
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, 'cumulative');
    const total = value(metrics, `${DURATION}_count`, labels);
    assert.equal(buckets.at(-1)!.value, total);
    const sum = value(metrics, `${DURATION}_sum`, labels);
    assert.ok(sum > 0 && sum < total * 2.5, `sum ${sum} s for ${total} fast requests`);
  });

  test('scrapes are never counted in the request metrics', async () => {
    for (let i = 0; i < 3; i++) await scrape(service.url);
    const metrics = await scrape(service.url);
    assert.deepEqual(find(metrics, `${DURATION}_count`, { route: '/metrics' }), []);
  });

  test("Node's default process metrics are there: event loop lag, heap, GC", async () => {
    const metrics = await scrape(service.url);
    assert.ok(value(metrics, 'nodejs_eventloop_lag_seconds') >= 0);
    assert.ok(value(metrics, 'nodejs_heap_size_used_bytes') > 0);
    assert.equal(metrics.types.get('nodejs_gc_duration_seconds'), 'histogram');
    assert.ok(value(metrics, 'process_resident_memory_bytes') > 0);
  });
});

describe('health metrics', () => {
  test('status, last duration and transitions follow a real database failure', async () => {
    const service = await startTestApp({ metrics: true, checkIntervalMs: 20 });
    try {
      let metrics = await scrape(service.url);
      const labels = (check: string) => ({ check });
      assert.equal(value(metrics, 'accountservice_health_check_up', labels('database')), 1);
      assert.equal(value(metrics, 'accountservice_health_check_status', { check: 'database', status: 'UP' }), 1);
      assert.equal(value(metrics, 'accountservice_health_check_status', { check: 'database', status: 'DOWN' }), 0);
      assert.equal(value(metrics, 'accountservice_health_check_status', { check: 'database', status: 'UNKNOWN' }), 0);
      const transitions = (from: string, to: string) =>
        value(metrics, 'accountservice_health_check_transitions_total', { check: 'database', from, to });
      assert.equal(metrics.types.get('accountservice_health_check_transitions_total'), 'counter');
      assert.equal(transitions('UNKNOWN', 'UP'), 1, 'the first result, counted from the start');
      assert.equal(transitions('UP', 'DOWN'), 0, 'a transition that has not happened is a 0, not a missing series');
      const duration = value(metrics, 'accountservice_health_check_duration_seconds', labels('database'));
      assert.ok(duration >= 0 && duration < 1, `last database check took ${duration} s`);
      const lastRun = value(metrics, 'accountservice_health_check_last_run_timestamp_seconds', labels('database'));
      assert.ok(Math.abs(lastRun - Date.now() / 1000) < 60, `last run at ${lastRun}`);

      // The database goes away: the background check notices within a few intervals.
      await service.store.close();
      metrics = await waitFor(
        async () => {
          const current = await scrape(service.url);
          return value(current, 'accountservice_health_check_up', labels('database')) === 0 ? current : undefined;
        },
        { what: 'the database check to turn DOWN in /metrics' },
      );
      assert.equal(value(metrics, 'accountservice_health_check_status', { check: 'database', status: 'DOWN' }), 1);
      assert.equal(value(metrics, 'accountservice_health_check_status', { check: 'database', status: 'UP' }), 0);
      assert.equal(transitions('UP', 'DOWN'), 1);
      assert.equal(transitions('UNKNOWN', 'UP'), 1);
      // Still failing on every run, but a status change is counted once.
      const downAt = value(metrics, 'accountservice_health_check_last_run_timestamp_seconds', labels('database'));
      metrics = await waitFor(
        async () => {
          const current = await scrape(service.url);
          const lastRunAt = value(
            current,
            'accountservice_health_check_last_run_timestamp_seconds',
            labels('database'),
          );
          return lastRunAt >= downAt + 0.1 ? current : undefined;
        },
        { what: 'more failing database check runs' },
      );
      assert.equal(value(metrics, 'accountservice_health_check_up', labels('database')), 0);
      assert.equal(transitions('UP', 'DOWN'), 1);
      // The other checks were not disturbed.
      assert.equal(value(metrics, 'accountservice_health_check_up', labels('event-loop')), 1);
    } finally {
      await service.close();
    }
  });

  test('a flag check is counted when it changes, with no probe; a scrape changes nothing', async () => {
    const service = await startTestApp({ metrics: true, testability: true });
    try {
      const up = async () =>
        value(await scrape(service.url), 'accountservice_health_check_up', { check: 'testability' });
      const transitions = async (from: string, to: string) =>
        value(await scrape(service.url), 'accountservice_health_check_transitions_total', {
          check: 'testability',
          from,
          to,
        });
      const viewUp = async () => value(await scrape(service.url), 'accountservice_health_view_up', { view: 'health' });
      const viewTransitions = async (from: string, to: string) =>
        value(await scrape(service.url), 'accountservice_health_view_transitions_total', { view: 'health', from, to });
      assert.equal(await up(), 1);
      assert.equal(await viewUp(), 1);

      assert.equal(await get(service.url, '/testability/healthy/false'), 200);
      assert.equal(await up(), 0, 'pushed at the switch, no probe needed');
      assert.equal(await transitions('UP', 'DOWN'), 1);
      assert.equal(await viewUp(), 0);
      assert.equal(await viewTransitions('UP', 'DOWN'), 1);
      assert.equal(await transitions('UP', 'DOWN'), 1, 'scrapes change nothing');

      assert.equal(await get(service.url, '/testability/healthy/true'), 200);
      assert.equal(await up(), 1);
      assert.equal(await transitions('DOWN', 'UP'), 1);
      assert.equal(
        await viewTransitions('DOWN', 'UP'),
        2,
        'one at start (UNKNOWN checks until their first result), one now',
      );
    } finally {
      await service.close();
    }
  });
});

describe('where /metrics is served', () => {
  test('with metrics off there is no /metrics route', async () => {
    const service = await startTestApp({ metrics: false });
    try {
      assert.equal(await get(service.url, '/metrics'), 404);
    } finally {
      await service.close();
    }
  });

  test('on a separate metrics port: served there, absent (and counted as unmatched) on the service port', async () => {
    const service = await startTestApp({ metrics: true, serveMetrics: false });
    let server: MetricsServer | undefined;
    try {
      server = createMetricsServer(service.metrics!, { timeouts: SERVER_TIMEOUTS, guard: { maxQueuedResponses: 32 } });
      const port = await server.listen(0, '127.0.0.1');
      const metricsUrl = `http://127.0.0.1:${port}`;

      assert.equal(await get(service.url, '/metrics'), 404);
      assert.equal(await get(service.url, '/accounts/10000'), 200);
      const metrics = await scrape(metricsUrl);
      assert.equal(value(metrics, `${DURATION}_count`, { method: 'GET', route: ROUTE, status_code: '200' }), 1);
      assert.equal(value(metrics, `${DURATION}_count`, { method: 'GET', route: 'unmatched', status_code: '404' }), 1);
      assert.equal(await get(metricsUrl, '/accounts/10000'), 404, 'the metrics port serves nothing else');
      const post = await fetch(`${metricsUrl}/metrics`, { method: 'POST' });
      await post.arrayBuffer();
      assert.equal(post.status, 405);
    } finally {
      await server?.close();
      await service.close();
    }
  });

  test('the metrics port renders once for scrapes that arrive while a render is under way', async () => {
    let renders = 0;
    let finish: (text: string) => void = () => {};
    const metrics = {
      contentType: PROMETHEUS_TYPE,
      render: () => {
        renders += 1;
        return new Promise<string>((resolve) => (finish = resolve));
      },
    };
    const server = createMetricsServer(metrics, { timeouts: SERVER_TIMEOUTS, guard: { maxQueuedResponses: 32 } });
    try {
      const port = await server.listen(0, '127.0.0.1');
      let requests = 0;
      server.server.on('request', () => (requests += 1));
      const scrapes = Array.from({ length: 5 }, () =>
        fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text()),
      );
      // Every scrape has reached the server (each on a connection of its own) before the render ends.
      await waitFor(() => requests === 5, { what: 'the five scrapes to arrive' });
      finish('one_metric 1\n');
      const answers = await withDeadline(Promise.all(scrapes), 3000, 'the five scrapes to be answered by one render');
      assert.deepEqual(answers, Array(5).fill('one_metric 1\n'));
      assert.equal(renders, 1, 'five scrapes in flight together, one render');
      const laterText = fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) =>
        r.text(),
      );
      await waitFor(() => renders === 2, { what: 'a scrape after the render ended to render again' });
      finish('one_metric 2\n');
      assert.equal(await laterText, 'one_metric 2\n');
    } finally {
      await server.close();
    }
  });

  test('each app has its own registry: two apps in one process count apart', async () => {
    const first = await startTestApp({ metrics: true });
    const second = await startTestApp({ metrics: true });
    try {
      await get(first.url, '/accounts/10000');
      await get(first.url, '/accounts/10000');
      await get(second.url, '/accounts/10000');
      const labels = { method: 'GET', route: ROUTE, status_code: '200' };
      assert.equal(value(await scrape(first.url), `${DURATION}_count`, labels), 2);
      assert.equal(value(await scrape(second.url), `${DURATION}_count`, labels), 1);
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe('metrics configuration', () => {
  const base = { DB_PATH: 'data/accounts.mdb' };

  test('on by default, on the service port', () => {
    const config = loadConfig(base);
    assert.deepEqual(config.metrics, { enabled: true, port: undefined, host: '127.0.0.1' });
  });

  test('METRICS=off turns it off; METRICS_PORT moves it', () => {
    assert.equal(loadConfig({ ...base, METRICS: 'off' }).metrics.enabled, false);
    assert.equal(loadConfig({ ...base, METRICS: 'on' }).metrics.enabled, true);
    assert.equal(loadConfig({ ...base, METRICS_PORT: '9100' }).metrics.port, 9100);
    assert.equal(loadConfig({ ...base, METRICS_PORT: '' }).metrics.port, undefined, 'empty means the service port');
  });

  test('bad values name the variable', () => {
    assert.throws(() => loadConfig({ ...base, METRICS: 'maybe' }), /METRICS must be on or off \(got "maybe"\)/);
    assert.throws(
      () => loadConfig({ ...base, METRICS_PORT: 'http' }),
      /METRICS_PORT must be a whole number from 0 to 65535/,
    );
    assert.throws(() => loadConfig({ ...base, METRICS_PORT: '6767' }), /METRICS_PORT must differ from PORT/);
  });
});
