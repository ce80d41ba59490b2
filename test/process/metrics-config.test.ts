// The built service as a child process: METRICS and METRICS_PORT decide where /metrics is served,
// the separate metrics listener keeps serving while the service drains, and the access log reaches stdout.

import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startService, startServiceRaw } from '../helpers/service-process.js';
import { waitFor } from '../helpers/wait.js';

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { headers: { connection: 'close' }, signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.text() };
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
      assert.deepEqual(
        service.logs.filter((l) => l.route === '/health' || l.route === '/metrics'),
        [],
        'probes are at debug',
      );
      assert.equal(await service.stop(), 0);
    } finally {
      await service.cleanup();
    }
  });

  test('METRICS_PORT serves /metrics on a listener of its own, still while the service drains', async () => {
    const service = await startService({ env: { METRICS_PORT: '0', SHUTDOWN_DRAIN_DELAY_MS: '1500' } });
    try {
      const line = service.logs.find((l) => /^Serving metrics at /.test(String(l.msg)));
      assert.ok(line, `no "Serving metrics at" line in ${JSON.stringify(service.logs)}`);
      const metricsUrl = /(http:\/\/\S+)/.exec(String(line.msg))![1]!;
      assert.notEqual(metricsUrl, `${service.url}/metrics`);

      assert.equal((await get(`${service.url}/metrics`)).status, 404, 'not on the service port');
      assert.equal((await get(`${service.url}/accounts/10000`)).status, 200);
      const metrics = await get(metricsUrl);
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, /route="\/accounts\/:accountId",status_code="200"\} 1$/m);
      assert.match(metrics.body, /route="unmatched",status_code="404"\} 1$/m);
      assert.match(metrics.body, /^accountservice_health_check_up\{check="database"\} 1$/m);

      // Checked while the process lives: once it has exited the OS has closed every port, so a
      // check after the exit could not fail. During the drain the last scrapes must still work.
      service.child.kill('SIGTERM');
      await waitFor(() => service.logs.some((l) => /^shutting down/.test(l.msg ?? '')), {
        what: 'the shutdown log line',
      });
      const duringDrain = await get(metricsUrl);
      assert.equal(duringDrain.status, 200, 'the metrics port serves during the drain');
      assert.match(duringDrain.body, /^accountservice_health_check_up\{check="database"\} 1$/m);
      assert.equal(await service.exitedWithin(10_000), 0);
      assert.ok(
        service.logs.some((l) => l.msg === 'shutdown complete'),
        'the shutdown, metrics listener included, completed',
      );
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
      assert.equal(
        service.logs.some((l) => /^Serving metrics at /.test(String(l.msg))),
        false,
      );
      assert.equal(await service.stop(), 0);
    } finally {
      await service.cleanup();
    }
  });

  test('METRICS_PORT equal to PORT is refused at start, naming the variable', async () => {
    // Nothing listens: the configuration is refused before any port is bound.
    const service = startServiceRaw({ env: { PORT: '6799', METRICS_PORT: '6799' }, waitForListen: false });
    try {
      assert.equal(await service.exitedWithin(15_000), 1);
      assert.match(service.stderr(), /accountservice: invalid configuration: METRICS_PORT must differ from PORT/);
    } finally {
      await service.cleanup();
    }
  });
});
