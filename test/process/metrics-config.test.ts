// The built service as a child process: METRICS and METRICS_PORT decide where /metrics is served,
// the separate metrics listener closes on SIGTERM, and the access log reaches stdout.

import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startService, startServiceRaw } from '../helpers/service-process.js';
import { waitFor } from '../helpers/wait.js';

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { headers: { connection: 'close' } });
  return { status: response.status, body: await response.text() };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('metrics configuration of the running service', () => {
  test('by default /metrics is on the service port and each request is logged once', async () => {
    const service = await startService();
    try {
      assert.equal((await get(`${service.url}/accounts/10000`)).status, 200);
      assert.equal((await get(`${service.url}/health`)).status, 200);
      const metrics = await get(`${service.url}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(
        metrics.body,
        /^accountservice_http_request_duration_seconds_count\{method="GET",route="\/accounts\/:accountId",status_code="200"\} 1$/m,
      );
      const access = await waitFor(
        () => service.logs.filter((line) => line.route === '/accounts/:accountId').length === 1 && service.logs,
        { what: 'the access log line' },
      );
      const line = access.find((l) => l.route === '/accounts/:accountId')!;
      assert.equal(line.level, 30);
      assert.equal(line.statusCode, 200);
      assert.equal(line.url, '/accounts/10000');
      assert.deepEqual(service.logs.filter((l) => l.route === '/health' || l.route === '/metrics'), [], 'probes are at debug');
      assert.equal(await service.stop(), 0);
    } finally {
      await service.cleanup();
    }
  });

  test('METRICS_PORT serves /metrics on a listener of its own, closed on SIGTERM', async () => {
    const service = await startService({ env: { METRICS_PORT: '0' } });
    try {
      const line = service.logs.find((l) => /^Serving metrics at /.test(String(l.msg)));
      assert.ok(line, `no "Serving metrics at" line in ${JSON.stringify(service.logs)}`);
      const metricsUrl = /(http:\/\/\S+)/.exec(String(line.msg))![1]!;
      const port = Number(new URL(metricsUrl).port);
      assert.notEqual(metricsUrl, `${service.url}/metrics`);

      assert.equal((await get(`${service.url}/metrics`)).status, 404, 'not on the service port');
      assert.equal((await get(`${service.url}/accounts/10000`)).status, 200);
      const metrics = await get(metricsUrl);
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, /route="\/accounts\/:accountId",status_code="200"\} 1$/m);
      assert.match(metrics.body, /route="unmatched",status_code="404"\} 1$/m);
      assert.match(metrics.body, /^accountservice_health_check_up\{check="database"\} 1$/m);

      assert.equal(await service.stop(), 0);
      assert.equal(await refused(port), true, 'the metrics port is closed after shutdown');
    } finally {
      await service.cleanup();
    }
  });

  test('NODE_ENV=production: /metrics is on a listener of its own, never on the service port', async () => {
    // The production default is port 9100 (a unit test holds that); a fixed port has no place in a
    // test, so METRICS_PORT=0 asks for any free one. What matters here: the service port keeps
    // check names, statuses and timings to itself.
    const service = await startService({ env: { NODE_ENV: 'production', METRICS_PORT: '0' } });
    try {
      const line = service.logs.find((l) => /^Serving metrics at /.test(String(l.msg)));
      assert.ok(line, `no "Serving metrics at" line in ${JSON.stringify(service.logs)}`);
      const onServicePort = await get(`${service.url}/metrics`);
      assert.equal(onServicePort.status, 404);
      assert.doesNotMatch(onServicePort.body, /database|health_check/);
      const metrics = await get(/(http:\/\/\S+)/.exec(String(line.msg))![1]!);
      assert.match(metrics.body, /^accountservice_health_check_up\{check="database"\} 1$/m);
      assert.equal(await service.stop(), 0);
    } finally {
      await service.cleanup();
    }
  });

  test('METRICS=off: no /metrics anywhere', async () => {
    const service = await startService({ env: { METRICS: 'off' } });
    try {
      assert.equal((await get(`${service.url}/metrics`)).status, 404);
      assert.equal(service.logs.some((l) => /^Serving metrics at /.test(String(l.msg))), false);
      assert.equal(await service.stop(), 0);
    } finally {
      await service.cleanup();
    }
  });

  test('METRICS_PORT equal to PORT is refused at start, naming the variable', async () => {
    // Nothing listens: the configuration is refused before any port is bound.
    const service = startServiceRaw({ env: { PORT: '6799', METRICS_PORT: '6799' }, waitForListen: false });
    try {
      assert.equal(await service.exited, 1);
      assert.match(service.stderr(), /accountservice: invalid configuration: METRICS_PORT must differ from PORT/);
    } finally {
      await service.cleanup();
    }
  });
});
