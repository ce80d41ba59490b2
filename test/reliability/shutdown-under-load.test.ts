// SIGTERM while a steady load runs against the built service: readiness turns 503 at once, the
// service keeps answering through the drain delay, every request it accepted is answered, and it
// exits 0 within its grace period. A second SIGTERM ends it at once with exit 1.
//
// What counts as accepted: a request on a TCP connection that the service's HTTP server took from
// the kernel. Once the drain delay is over the listener closes; a connection the kernel completed
// but the service had not yet taken is then reset by the kernel (or refused, if it comes later). No
// server can avoid that for a client that ignores readiness and keeps connecting, so it is not a
// drop: the request never reached the service, which the test checks through the service's own
// access log (every request carries its id in X-Request-Id). An accepted request must get its
// answer: 200, or 503 when it arrives on an open connection while the server closes.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { startService, type ServiceProcess } from '../helpers/service-process.js';
import { withDeadline } from '../helpers/deadline.js';

const DRAIN_DELAY_MS = 1000;
const SHUTDOWN_TIMEOUT_MS = 5000;
const WORKERS = 16;
/** How long an orchestrator-like client takes to stop routing here once readiness says 503. */
const REACTION_MS = 300;

interface Outcome {
  readonly id: string;
  readonly sentAt: number;
  readonly doneAt: number;
  /** The HTTP status, or the error code when there was no answer. */
  readonly result: number | string;
}

/** One GET; never rejects. */
function get(port: number, path: string, agent: Agent | false, id: string): Promise<Outcome> {
  const sentAt = Date.now();
  return new Promise<Outcome>((resolve) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, path, agent, timeout: 10_000, headers: { 'x-request-id': id } },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ id, sentAt, doneAt: Date.now(), result: response.statusCode ?? 0 }));
        response.on('error', (error: NodeJS.ErrnoException) =>
          resolve({ id, sentAt, doneAt: Date.now(), result: `cut mid-answer: ${error.code ?? error.message}` }),
        );
      },
    );
    request.on('timeout', () =>
      request.destroy(Object.assign(new Error('no answer within 10 s'), { code: 'TIMEOUT' })),
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ id, sentAt, doneAt: Date.now(), result: error.code ?? error.message }),
    );
    request.end();
  });
}

/** WORKERS loops, each on its own keep-alive agent, sending lookups back to back while routing() says so. */
function startLoad(port: number, label: string, routing: () => boolean) {
  const outcomes: Outcome[] = [];
  const agents = Array.from({ length: WORKERS }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  const workers = agents.map(async (agent, w) => {
    for (let i = 0; routing(); i++) {
      outcomes.push(await get(port, `/accounts/${10_000 + ((w * 7 + i) % 100)}`, agent, `${label}-${w}-${i}`));
    }
  });
  return {
    outcomes,
    async stop() {
      await Promise.all(workers);
      for (const agent of agents) agent.destroy();
    },
  };
}

function summary(list: readonly Outcome[]): string {
  const byResult = new Map<number | string, number>();
  for (const o of list) byResult.set(o.result, (byResult.get(o.result) ?? 0) + 1);
  return [...byResult].map(([result, n]) => `${result}:${n}`).join(' ') || 'none';
}

/** Starts the service, runs the load for a second, sends SIGTERM and polls readiness; returns what happened. */
async function shutDownUnderLoad(label: string, respectReadiness: boolean) {
  const service = await startService({
    env: { SHUTDOWN_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS), SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) },
  });
  running.push(service);
  const port = Number(new URL(service.url).port);
  let exitedAt: number | undefined;
  void service.exited.then(() => {
    exitedAt = Date.now();
  });
  let readyDownAt: number | undefined;
  const routing = () =>
    exitedAt === undefined &&
    (!respectReadiness || readyDownAt === undefined || Date.now() < readyDownAt + REACTION_MS);
  const load = startLoad(port, label, routing);

  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.ok(
    load.outcomes.length > 2 * WORKERS,
    `the load is running (${load.outcomes.length} requests in the first second)`,
  );

  const signalAt = Date.now();
  service.child.kill('SIGTERM');
  // Readiness, polled on fresh connections from the moment the signal is sent.
  const readyPolls: (number | string)[] = [];
  while (readyDownAt === undefined && Date.now() - signalAt < DRAIN_DELAY_MS) {
    const answer = await get(port, '/health/ready', false, `${label}-ready-${readyPolls.length}`);
    readyPolls.push(answer.result);
    if (answer.result === 503) readyDownAt = answer.doneAt;
  }
  const code = await withDeadline(service.exited, DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + 2000, 'the service to exit');
  await load.stop();

  assert.ok(readyDownAt !== undefined, `readiness turned 503 during the drain; polls: ${readyPolls.join(' ')}`);
  // The poll itself queues behind the load, so "at once" is judged by the drain: the orchestrator must
  // see 503 while the service still serves everything.
  assert.ok(
    readyDownAt - signalAt < DRAIN_DELAY_MS,
    `readiness turned 503 within the drain (${readyDownAt - signalAt} ms)`,
  );
  assert.equal(code, 0, `exit code; stderr: ${service.stderr()}`);
  const exitMs = exitedAt! - signalAt;
  assert.ok(
    exitMs < DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS,
    `exited ${exitMs} ms after SIGTERM, within its grace period`,
  );
  // The ids of the requests the service answered, from its access log.
  const answered = new Set(
    service.logs.map((line) => line.requestId).filter((id): id is string => typeof id === 'string'),
  );
  return { service, outcomes: load.outcomes, signalAt, readyMs: readyDownAt - signalAt, readyPolls, exitMs, answered };
}

const running: ServiceProcess[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
});

describe('shutdown under load (built service, real signals)', () => {
  it(`orchestrator-like clients (they stop routing ${REACTION_MS} ms after readiness says 503): SIGTERM with a ${DRAIN_DELAY_MS} ms drain drops no request, exit 0`, async (t) => {
    const run = await shutDownUnderLoad('lb', true);
    const afterSignal = run.outcomes.filter((o) => o.sentAt >= run.signalAt);
    t.diagnostic(
      `requests during shutdown: ${afterSignal.length} (${summary(afterSignal)}); ${run.outcomes.length} in all (${summary(run.outcomes)}); ` +
        `readiness 503 ${run.readyMs} ms after SIGTERM; exit 0 after ${run.exitMs} ms; ` +
        `requests dropped: ${run.outcomes.filter((o) => o.result !== 200).length}`,
    );
    assert.deepEqual(
      run.outcomes.filter((o) => o.result !== 200).map((o) => `${o.id}: ${o.result}`),
      [],
      'every request answered 200',
    );
    assert.ok(
      afterSignal.length >= WORKERS,
      `requests kept coming and being served after SIGTERM (${afterSignal.length})`,
    );
  });

  it('clients that ignore readiness and keep connecting through the close: everything the service accepted is answered', async (t) => {
    const run = await shutDownUnderLoad('raw', false);
    const drainedBy = run.signalAt + DRAIN_DELAY_MS;
    const beforeSignal = run.outcomes.filter((o) => o.sentAt < run.signalAt);
    // The drain keeps serving; the last moments before the listener closes are left to the check below.
    const earlyDrain = run.outcomes.filter((o) => o.sentAt >= run.signalAt && o.sentAt < drainedBy - 200);
    const late = run.outcomes.filter((o) => o.sentAt >= drainedBy - 200);
    const failed = run.outcomes.filter((o) => typeof o.result === 'string');
    const dropped = failed.filter(
      (o) => run.answered.has(o.id) || !/^(ECONNREFUSED|ECONNRESET|EPIPE)$/.test(String(o.result)),
    );
    const notAccepted = failed.filter((o) => !dropped.includes(o));
    t.diagnostic(
      `requests during shutdown: ${earlyDrain.length + late.length} (sent in the first ${DRAIN_DELAY_MS - 200} ms of the drain: ${summary(earlyDrain)}; ` +
        `later: ${summary(late)}); before SIGTERM: ${beforeSignal.length}; exit 0 after ${run.exitMs} ms`,
    );
    t.diagnostic(
      `requests dropped: ${dropped.length}; never accepted (refused or reset by the kernel at the listener close, not in the service's log): ` +
        `${notAccepted.length}; answered 503 by the closing server: ${run.outcomes.filter((o) => o.result === 503).length}`,
    );
    assert.ok(run.answered.size > 2 * WORKERS, 'the access log recorded the answered requests');
    assert.deepEqual(
      beforeSignal.filter((o) => o.result !== 200).map((o) => `${o.id}: ${o.result}`),
      [],
      'requests before SIGTERM: all 200',
    );
    assert.deepEqual(
      earlyDrain.filter((o) => o.result !== 200).map((o) => `${o.id}: ${o.result}`),
      [],
      'requests during the drain: all 200',
    );
    assert.ok(earlyDrain.length >= WORKERS, `the load kept going through the drain (${earlyDrain.length})`);
    assert.deepEqual(
      dropped.map(
        (o) =>
          `${o.id} sent ${o.sentAt - run.signalAt} ms after SIGTERM: ${o.result}${run.answered.has(o.id) ? ' (the service had answered it)' : ''}`,
      ),
      [],
      'no request the service accepted was dropped',
    );
    for (const o of run.outcomes) {
      if (o.result === 503)
        assert.ok(o.sentAt >= drainedBy - 200, `a 503 only from the closing server, not during the drain (${o.id})`);
    }
  });

  it('a second SIGTERM during the drain ends it at once with exit 1', async (t) => {
    const service = await startService({ env: { SHUTDOWN_DRAIN_DELAY_MS: '30000', SHUTDOWN_TIMEOUT_MS: '5000' } });
    running.push(service);
    service.child.kill('SIGTERM');
    const port = Number(new URL(service.url).port);
    // The first signal has been handled once readiness is 503.
    for (let i = 0, answer = await get(port, '/health/ready', false, 'ready'); answer.result !== 503; i++) {
      assert.equal(answer.result, 200);
      assert.ok(i < 1000, 'readiness turns 503 after the first SIGTERM');
      answer = await get(port, '/health/ready', false, 'ready');
    }
    const secondAt = Date.now();
    service.child.kill('SIGTERM');
    const code = await withDeadline(service.exited, 3000, 'the service to exit on the second SIGTERM');
    assert.equal(code, 1);
    assert.ok(service.logs.some((line) => /received again during shutdown; exiting at once/.test(String(line.msg))));
    t.diagnostic(`exit 1 ${Date.now() - secondAt} ms after the second SIGTERM (the drain alone would have taken 30 s)`);
  });
});
