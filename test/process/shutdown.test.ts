// Graceful shutdown of the real service in a child process, with real signals.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startService, type LogLine, type ServiceProcess } from '../helpers/service-process.js';
import { withDeadline } from '../helpers/deadline.js';
import { waitFor } from '../helpers/wait.js';

const running: ServiceProcess[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
});

async function start(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const service = await startService({ env });
  running.push(service);
  return service;
}

function logged(service: ServiceProcess, pattern: RegExp): LogLine | undefined {
  return service.logs.find((line) => pattern.test(line.msg ?? ''));
}

/** Opens a request whose body is only half sent: in flight until finish() sends the rest. */
async function halfSentRequest(
  url: string,
): Promise<{ finish: () => void; response: Promise<string>; socket: Socket }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await withDeadline(
    new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject)),
    5000,
    'the connection',
  );
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    received += chunk;
  });
  const response = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  socket.write(
    'PUT /testability/healthy/true HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\n12345',
  );
  return { finish: () => socket.write('67890'), response, socket };
}

describe('graceful shutdown', () => {
  it('exits 0 on SIGTERM and on SIGINT, logging why and when it is done', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const service = await start();
      assert.equal((await fetch(`${service.url}/health`)).status, 200);
      assert.equal(await service.stop(signal), 0, signal);
      assert.ok(logged(service, new RegExp(`^shutting down \\(${signal}\\)`)), `${signal} logged`);
      assert.ok(logged(service, /^shutdown complete$/));
    }
  });

  it('logs the shutdown check going UP -> DOWN and counts it, with nothing probing /health/ready', async (t) => {
    // Swarm never probes readiness: the change must be logged and counted when shutdown begins.
    const service = await start({ SHUTDOWN_DRAIN_DELAY_MS: '2000', METRICS_PORT: '0' });
    const metricsLine = logged(service, /^Serving metrics at /);
    assert.ok(metricsLine, JSON.stringify(service.logs));
    const metricsUrl = /(http:\/\/\S+)/.exec(String(metricsLine.msg))![1]!;
    const transitions = async (): Promise<string | undefined> =>
      /^accountservice_health_check_transitions_total\{check="shutdown",from="UP",to="DOWN"\} (\d+)$/m.exec(
        await (await fetch(metricsUrl, { headers: { connection: 'close' } })).text(),
      )?.[1];
    assert.equal(await transitions(), '0');
    const signalledAt = Date.now();
    service.child.kill('SIGTERM');
    const change = await waitFor(
      () => service.logs.find((line) => line.check === 'shutdown' && line.from === 'UP' && line.to === 'DOWN'),
      { timeoutMs: 1500, what: 'the shutdown check UP -> DOWN log line, within the drain delay' },
    );
    const loggedWithinMs = Date.now() - signalledAt;
    assert.equal(change.level, 40);
    assert.equal(await transitions(), '1');
    t.diagnostic(`shutdown UP -> DOWN logged ${loggedWithinMs} ms after SIGTERM (drain delay 2000 ms), counted once`);
    assert.equal(await service.stop('SIGTERM', 15_000), 1, 'the second SIGTERM ends it with 1');
  });

  it('turns readiness 503 at once and keeps /health 200 during the drain delay', async () => {
    const service = await start({ SHUTDOWN_DRAIN_DELAY_MS: '3000' });
    service.child.kill('SIGTERM');
    await waitFor(() => logged(service, /^shutting down/), { what: 'the shutdown log line' });
    const ready = await fetch(`${service.url}/health/ready`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { checks: { shutdown: { status: string } } }).checks.shutdown.status, 'DOWN');
    assert.equal((await fetch(`${service.url}/health`)).status, 200);
    const during = await fetch(`${service.url}/accounts/10000`);
    assert.equal(during.status, 200, 'requests are still served while draining');
    assert.equal(during.headers.get('connection'), 'close', 'keep-alive clients are told to reconnect elsewhere');
    assert.equal(await service.stop('SIGTERM', 15_000), 1, 'the second SIGTERM ends it with 1');
  });

  it('answers a request that was in flight when the signal came, then exits 0', async () => {
    const service = await start({ TESTABILITY_ENABLED: 'true' });
    const inFlight = await halfSentRequest(service.url);
    // A full round trip on another connection: the half-sent request's headers have been read by now.
    assert.equal((await fetch(`${service.url}/health`)).status, 200);
    service.child.kill('SIGTERM');
    await waitFor(() => logged(service, /^shutting down/), { what: 'the shutdown log line' });
    inFlight.finish();
    const response = await withDeadline(inFlight.response, 10_000, 'the in-flight response');
    assert.match(response, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(response, /\{"healthy":true\}$/);
    assert.equal(await service.exitedWithin(10_000), 0);
  });

  it('closes an idle keep-alive connection cleanly (FIN, no reset) when it shuts down', async () => {
    const service = await start();
    const { hostname, port } = new URL(service.url);
    const socket = connect(Number(port), hostname);
    let received = '';
    let failure: Error | undefined;
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', (error) => {
      failure = error;
    });
    const ended = new Promise<void>((resolve) => socket.once('end', resolve));
    socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    await waitFor(() => received.endsWith('{"status":"UP"}'), { what: 'the keep-alive response' });
    service.child.kill('SIGTERM');
    await withDeadline(ended, 10_000, 'the server to end the idle connection');
    assert.equal(failure, undefined, 'the pooled connection saw no ECONNRESET');
    assert.equal(await service.exitedWithin(10_000), 0);
    socket.destroy();
  });

  it('warns at start, with the numbers, when shutdown cannot fit in the grace period', async () => {
    const service = await start({
      SHUTDOWN_DRAIN_DELAY_MS: '2000',
      SHUTDOWN_TIMEOUT_MS: '5000',
      SHUTDOWN_GRACE_PERIOD_MS: '6000',
    });
    const warning = logged(service, /^shutdown may be cut short/);
    assert.ok(warning, 'the budget warning was logged');
    assert.equal(warning.level, 40);
    assert.match(
      String(warning.msg),
      /2000 ms \+ SHUTDOWN_TIMEOUT_MS 5000 ms = 7000 ms, more than SHUTDOWN_GRACE_PERIOD_MS 6000 ms/,
    );
    const quiet = await start();
    assert.equal(logged(quiet, /^shutdown may be cut short/), undefined);
  });

  it('ends at once with exit 1 on a second signal, saying why', async () => {
    const service = await start({ SHUTDOWN_DRAIN_DELAY_MS: '60000' });
    service.child.kill('SIGTERM');
    await waitFor(() => logged(service, /^shutting down/), { what: 'the shutdown log line' });
    const startedAt = Date.now();
    assert.equal(await service.stop('SIGTERM', 10_000), 1);
    assert.ok(Date.now() - startedAt < 10_000);
    assert.ok(logged(service, /^SIGTERM received again during shutdown; exiting at once$/));
  });

  it('exits 1 at the deadline when an in-flight request never finishes', async () => {
    const service = await start({ TESTABILITY_ENABLED: 'true', SHUTDOWN_TIMEOUT_MS: '500' });
    const stuck = await halfSentRequest(service.url);
    assert.equal((await fetch(`${service.url}/health`)).status, 200);
    service.child.kill('SIGTERM');
    // One signal only: a second would end it too, and this test is about the deadline.
    assert.equal(await service.exitedWithin(10_000), 1);
    assert.ok(logged(service, /^shutdown did not finish within 500 ms; exiting now$/));
    assert.equal(logged(service, /received again/), undefined);
    stuck.socket.destroy();
  });
});
