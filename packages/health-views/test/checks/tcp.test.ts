// tcpCheck against real sockets on loopback: a listening server, a closed port, a name that does
// not resolve, and a port that never answers (a full accept queue), through the registry as a user
// runs it; and the attempt's socket is gone once its signal aborts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { tcpCheck } from '../../src/checks/tcp.js';
import { neverAcceptingPort, type NeverAccepting } from '../helpers/never-accepting.js';
import { waitUntil, withDeadline } from '../helpers/deadline.js';
import { firstReport } from '../helpers/first-report.js';

/** Sockets this process has open (connecting, connected, or listening). */
function openSockets(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'TCPSocketWrap' || type === 'TCPServerWrap').length;
}

describe('tcpCheck', () => {
  let server: Server;
  let port: number;
  let connections = 0;
  const accepted = new Set<Socket>();
  before(async () => {
    server = createServer((socket) => {
      connections++;
      accepted.add(socket.on('close', () => accepted.delete(socket)));
      socket.resume();
    });
    server.listen(0, '127.0.0.1');
    await withDeadline(once(server, 'listening'), 5000, 'the server to listen');
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    // Ends what a leaking check left connected, so a failing run ends too instead of hanging.
    for (const socket of accepted) socket.destroy();
    server.close();
  });

  it('is UP when the port accepts, and closes the connection it made', async () => {
    const before = connections;
    const report = await firstReport(tcpCheck({ name: 'cache', host: '127.0.0.1', port }));
    assert.equal(report.status, 'UP', JSON.stringify(report));
    assert.equal(connections, before + 1, 'one connection per run');
    await waitUntil(openSockets, (open) => open === 1, 2000, 'only the listening socket left open');
  });

  it('is DOWN with "refused" for a closed port', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const report = await firstReport(tcpCheck({ name: 'db', host: '127.0.0.1', port: closedPort }));
    assert.equal(report.status, 'DOWN');
    assert.equal(report.cause, `connection to 127.0.0.1:${closedPort} refused (ECONNREFUSED)`);
    assert.equal(report.publicCause, 'a TCP dependency cannot be reached', 'the public cause names no host');
  });

  it('is DOWN with a DNS cause for a name that does not resolve', async () => {
    // .invalid never resolves (RFC 6761); a generous timeout so a slow resolver still gives its own answer.
    const report = await firstReport(tcpCheck({ host: 'no-such-host.invalid', port: 5432, timeoutMs: 20_000 }), 30_000);
    assert.equal(report.status, 'DOWN');
    assert.match(report.cause ?? '', /^DNS lookup of no-such-host\.invalid failed \((ENOTFOUND|EAI_AGAIN|EAI_FAIL)\)$/);
  });

  describe('a port that never answers', () => {
    let target: NeverAccepting;
    before(async () => {
      target = await neverAcceptingPort();
    });
    after(() => target.close());

    it('is DOWN at the timeout, and the attempt leaves no socket open', async () => {
      const baseline = openSockets();
      const startedAt = Date.now();
      const report = await firstReport(tcpCheck({ host: target.host, port: target.port, timeoutMs: 300 }));
      const tookMs = Date.now() - startedAt;
      assert.equal(report.status, 'DOWN');
      assert.equal(report.cause, 'timed out after 300 ms');
      assert.ok(tookMs >= 290 && tookMs < 3000, `the run settled after ${tookMs} ms, expected about 300 ms`);
      await waitUntil(openSockets, (open) => open === baseline, 2000, `${baseline} open sockets after the timeout`);
    });

    it('rejects at once when its signal aborts, and destroys the socket', async () => {
      const check = tcpCheck({ host: target.host, port: target.port });
      const baseline = openSockets();
      const controller = new AbortController();
      const run = check.run(controller.signal) as Promise<unknown>;
      await waitUntil(openSockets, (open) => open === baseline + 1, 2000, 'the attempt to open its socket');
      controller.abort(new Error('health closed'));
      await assert.rejects(withDeadline(run, 1000, 'the aborted run'), {
        message: `connecting to ${target.host}:${target.port}: health closed`,
      });
      await waitUntil(openSockets, (open) => open === baseline, 2000, `${baseline} open sockets after the abort`);
    });
  });

  it('refuses bad options at construction, naming the option', () => {
    assert.throws(() => tcpCheck({ host: '', port: 1 }), /tcpCheck\(\): host must be a non-empty string/);
    assert.throws(
      () => tcpCheck({ host: 'db', port: 70_000 }),
      /port must be a whole number from 1 to 65535 \(got 70000\)/,
    );
    assert.throws(() => tcpCheck({ host: 'db' } as never), /port is required/);
    assert.throws(
      () => tcpCheck({ name: 'db', host: 'db', port: 5432, timeout: 100 } as never),
      /tcpCheck\("db"\): unknown option "timeout"/,
    );
    assert.throws(() => tcpCheck({ name: 'db!', host: 'db', port: 5432 }), /check name "db!" must be letters/);
    assert.throws(
      () => tcpCheck({ name: 'db', host: 'db', port: 5432, intervalMs: 0 }),
      /check "db": intervalMs must be/,
    );
  });

  it('names itself "tcp" by default and takes the common options', () => {
    const check = tcpCheck({ host: 'db', port: 5432, critical: false, failureThreshold: 3 });
    assert.equal(check.name, 'tcp');
    assert.deepEqual(
      {
        intervalMs: check.intervalMs,
        timeoutMs: check.timeoutMs,
        critical: check.critical,
        failureThreshold: check.failureThreshold,
      },
      { intervalMs: 5000, timeoutMs: 2000, critical: false, failureThreshold: 3 },
    );
  });
});
