// How many access lines a stop can lose. Access lines wait for the end of their event-loop turn
// and go out in one write (src/log-destination.ts): a SIGKILL loses at most the lines of the turn it
// lands in, which holds at most one answer per busy connection; a SIGTERM loses none.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { startService, type ServiceProcess } from '../helpers/service-process.js';
import { withDeadline } from '../helpers/deadline.js';

const running: ServiceProcess[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
});

/** Keep-alive clients, each with one request in flight at a time: at most this many answers per turn. */
const CLIENTS = 8;
const ANSWERS = 2000;
const ACCOUNTS_ROUTE = '/accounts/:accountId';

function get(port: number, agent: Agent, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', (error) => resolve(error.message));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (error) => resolve(error.message));
    req.end();
  });
}

/** CLIENTS clients sending requests back to back while going() says so; every answer's status, in order of arrival. */
async function load(port: number, going: (answered: number) => boolean): Promise<number[]> {
  const statuses: number[] = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; going(statuses.length); i++) {
        const status = await get(port, agent, `/accounts/${10_000 + ((client * 13 + i) % 100)}`);
        if (typeof status !== 'number') break; // the service is gone
        statuses.push(status);
      }
      agent.destroy();
    }),
  );
  return statuses;
}

/** Starts the service, and resolves (once stdout has closed) with the access lines it wrote. */
async function serviceWithAccessLines(): Promise<{ service: ServiceProcess; accessLines: () => Promise<number> }> {
  const service = await startService({ env: { SHUTDOWN_DRAIN_DELAY_MS: '0' } });
  running.push(service);
  const stdoutClosed = new Promise((resolve) => service.child.stdout!.once('close', resolve));
  return {
    service,
    async accessLines() {
      await withDeadline(stdoutClosed, 10_000, "the service's stdout to close");
      return service.logs.filter((line) => line.route === ACCOUNTS_ROUTE).length;
    },
  };
}

describe('access lines lost when the service is stopped', () => {
  it(`SIGKILL right after ${ANSWERS} answers: at most one turn's worth (${CLIENTS} lines) is lost`, async (t) => {
    const { service, accessLines } = await serviceWithAccessLines();
    const port = Number(new URL(service.url).port);
    const statuses = await withDeadline(
      load(port, (answered) => answered < ANSWERS),
      60_000,
      `${ANSWERS} answers`,
    );
    service.child.kill('SIGKILL');
    await service.exitedWithin(10_000);
    const lines = await accessLines();
    t.diagnostic(`${statuses.length} answers, then SIGKILL: ${lines} access lines written`);
    assert.deepEqual([...new Set(statuses)], [200]);
    assert.ok(
      lines >= statuses.length - CLIENTS && lines <= statuses.length,
      `expected ${statuses.length - CLIENTS} to ${statuses.length} access lines, got ${lines}`,
    );
  });

  it('SIGTERM under load: every answered request has its access line', async (t) => {
    const { service, accessLines } = await serviceWithAccessLines();
    const port = Number(new URL(service.url).port);
    let stop = false;
    let signalled = false;
    const loading = load(port, (answered) => {
      if (answered >= ANSWERS && !signalled) {
        signalled = true;
        service.child.kill('SIGTERM');
      }
      return !stop;
    });
    const code = await service.exitedWithin(60_000);
    stop = true;
    const statuses = await withDeadline(loading, 15_000, 'the load to stop');
    const lines = await accessLines();
    t.diagnostic(`${statuses.length} answers, SIGTERM after ${ANSWERS}; exit ${code}; ${lines} access lines`);
    assert.equal(code, 0);
    assert.ok(statuses.length >= ANSWERS);
    assert.equal(lines, statuses.length, 'one access line per answer the clients received');
  });
});
