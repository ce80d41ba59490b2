// The shutdown on a real node:http server on port 0, with the exit and the clock injected: the
// clock moves the drain, hook timeouts and the deadline by hand; sockets and requests are real.

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { createHealth } from '../src/registry.js';
import { withHealth } from '../src/node-http.js';
import { createShutdown } from '../src/lifecycle.js';
import type { Health, Shutdown, ShutdownEvent, ShutdownOptions } from '../src/types.js';
import { FakeClock } from './helpers/fake-clock.js';
import { waitUntil, withDeadline } from './helpers/deadline.js';

const DRAIN_MS = 1000;
const TIMEOUT_MS = 5000;
/** How long a test waits for what real sockets and timers do. */
const WAIT_MS = 5000;

interface Fixture {
  readonly clock: FakeClock;
  readonly health: Health;
  readonly server: Server;
  readonly port: number;
  readonly shutdown: Shutdown;
  readonly events: ShutdownEvent[];
  readonly exits: number[];
  /** The response to the first request to /hold, which the app leaves for the test to answer. */
  readonly held: Promise<ServerResponse>;
}

const fixtures: Fixture[] = [];
afterEach(async () => {
  for (const f of fixtures.splice(0)) {
    // A sequence a test left under way runs to its deadline, so no timer of it outlives the test.
    if (f.shutdown.phase !== 'serving') await f.clock.advance(60_000 + 60_000 + TIMEOUT_MS);
    f.shutdown.dispose();
    f.server.closeAllConnections();
    f.server.close();
  }
});

async function start(options: Partial<ShutdownOptions> = {}): Promise<Fixture> {
  const clock = new FakeClock();
  const health = createHealth({
    checks: [
      { name: 'draining', kind: 'flag', healthyWhen: false, publicCause: 'shutting down' },
      { name: 'database', kind: 'flag', initial: true, publicCause: 'the database cannot be read' },
    ],
    views: [
      { name: 'live', path: '/health/live', checks: [] },
      { name: 'ready', path: '/health/ready', checks: ['database', 'draining'] },
      { name: 'health', path: '/health', checks: ['database'] },
    ],
    disclosure: { mode: 'always' },
    clock,
  });
  let arrived!: (response: ServerResponse) => void;
  const held = new Promise<ServerResponse>((resolve) => (arrived = resolve));
  const server = createServer(
    withHealth(health, (request: IncomingMessage, response: ServerResponse) => {
      if (request.url === '/hold') {
        arrived(response);
        return;
      }
      response.end('hello');
    }),
  );
  // Longer than any test: a connection left open is the shutdown's doing, not a timeout's.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const events: ShutdownEvent[] = [];
  const exits: number[] = [];
  const shutdown = createShutdown({
    health,
    flag: 'draining',
    servers: [server],
    signals: [],
    drainDelayMs: DRAIN_MS,
    timeoutMs: TIMEOUT_MS,
    clock,
    onEvent: (event) => events.push(event),
    exit: (code) => exits.push(code),
    ...options,
  });
  const fixture: Fixture = {
    clock,
    health,
    server,
    port: (server.address() as AddressInfo).port,
    shutdown,
    events,
    exits,
    held,
  };
  fixtures.push(fixture);
  return fixture;
}

/** A raw keep-alive connection: what the server sends, and whether it ended it with FIN or a reset. */
interface Connection {
  readonly socket: Socket;
  readonly text: () => string;
  /** Resolves at the server's FIN. */
  readonly ended: Promise<void>;
  readonly closed: Promise<void>;
  error(): Error | undefined;
  get(path: string): void;
}

async function connection(port: number): Promise<Connection> {
  const socket = connect(port, '127.0.0.1');
  await withDeadline(
    new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)),
    WAIT_MS,
    'the connection',
  );
  let text = '';
  let failure: Error | undefined;
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  socket.on('error', (error) => (failure = error));
  return {
    socket,
    text: () => text,
    ended: new Promise((resolve) => socket.once('end', resolve)),
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
    error: () => failure,
    get: (path) => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`),
  };
}

function types(events: readonly ShutdownEvent[]): string[] {
  return events.map((event) => (event.type === 'cleanup' ? `cleanup ${event.name} ${event.outcome}` : event.type));
}

function exitEvent(events: readonly ShutdownEvent[]): Extract<ShutdownEvent, { type: 'exit' }> | undefined {
  return events.find((event): event is Extract<ShutdownEvent, { type: 'exit' }> => event.type === 'exit');
}

async function get(port: number, path: string): Promise<{ status: number; connection: string | null; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, connection: response.headers.get('connection'), body: await response.text() };
}

/** The first signal, then the drain delay passed on the fake clock. */
async function signalAndDrain(f: Fixture): Promise<void> {
  f.shutdown.begin('SIGTERM');
  await f.clock.advance(DRAIN_MS);
}

/** Waits for exit to be called (exits is where the fixture's exit records its codes). */
async function untilExit(exits: readonly number[], what: string): Promise<void> {
  await waitUntil(
    () => exits,
    (codes) => codes.length > 0,
    WAIT_MS,
    what,
  );
}

/** Waits for the sequence to reach that phase. */
async function untilPhase(f: Fixture, phase: Shutdown['phase']): Promise<void> {
  await waitUntil(
    () => f.shutdown.phase,
    (now) => now === phase,
    WAIT_MS,
    `the ${phase} phase`,
  );
}

/** Waits for the sequence to emit an event of that type. */
async function untilEvent(f: Fixture, type: ShutdownEvent['type']): Promise<void> {
  const seen = (): string[] => f.events.map((event) => event.type);
  await waitUntil(seen, (types) => types.includes(type), WAIT_MS, `the ${type} event`);
}

/** Waits for the exit, then checks it was the only one, with that code. */
async function exitsWith(f: Fixture, code: number, what = 'the exit'): Promise<void> {
  await untilExit(f.exits, what);
  assert.deepEqual(f.exits, [code]);
}

describe('createShutdown', () => {
  it('goes signal, draining, closing, health closed, servers closed, each cleanup in order, exit 0', async () => {
    const ran: string[] = [];
    const f = await start({
      cleanup: [
        { name: 'queue', run: async () => void ran.push(`queue after ${f.server.listening ? 'open' : 'closed'}`) },
        function database() {
          ran.push('database');
        },
      ],
    });
    f.shutdown.begin('SIGTERM');
    assert.deepEqual(types(f.events), ['signal', 'draining'], 'nothing closes before the drain delay');
    assert.equal(f.shutdown.phase, 'draining');
    await f.clock.advance(DRAIN_MS);
    await untilExit(f.exits, 'the exit');
    assert.deepEqual(types(f.events), [
      'signal',
      'draining',
      'closing',
      'health-closed',
      'servers-closed',
      'cleanup queue done',
      'cleanup database done',
      'exit',
    ]);
    assert.deepEqual(ran, ['queue after closed', 'database'], 'hooks run in order, after the servers closed');
    assert.deepEqual(f.exits, [0]);
    assert.deepEqual(exitEvent(f.events), {
      type: 'exit',
      code: 0,
      reason: 'done',
      deadlineMs: DRAIN_MS + TIMEOUT_MS,
      elapsedMs: DRAIN_MS,
    });
    assert.equal(f.shutdown.phase, 'exited');
  });

  it('turns readiness DOWN at the signal, before the drain, and keeps serving with connection: close', async () => {
    const f = await start();
    let readyAtDraining: string | undefined;
    const f2 = await start({
      onEvent: (event) => {
        if (event.type === 'draining') readyAtDraining = f2.health.view('ready')?.status;
      },
    });
    f2.shutdown.begin('SIGTERM');
    assert.equal(readyAtDraining, 'DOWN', 'the draining event comes once readiness is DOWN');

    const before = await get(f.port, '/health/ready');
    assert.deepEqual([before.status, before.connection], [200, 'keep-alive']);
    f.shutdown.begin('SIGTERM');
    const ready = await get(f.port, '/health/ready');
    assert.equal(ready.status, 503, 'ready is DOWN with no clock moved: before the drain delay');
    const details = JSON.parse((await get(f.port, '/health/ready?details')).body);
    assert.deepEqual(
      [details.checks.draining.cause, details.checks.draining.detail],
      ['shutting down', 'shutting down (SIGTERM)'],
    );
    assert.equal(ready.connection, 'close');
    assert.deepEqual(await get(f.port, '/health/live'), { status: 200, connection: 'close', body: '{"status":"UP"}' });
    assert.deepEqual(await get(f.port, '/'), { status: 200, connection: 'close', body: 'hello' });
    assert.equal(f.server.listening, true, 'still accepting during the drain');
  });

  it('lets a request in flight at the close finish with its full answer, then ends its connection', async () => {
    const f = await start();
    const unsent = await connection(f.port);
    unsent.get('/hold');
    const response = await withDeadline(f.held, WAIT_MS, 'the held request');
    // A second held answer whose head went out before the signal, saying keep-alive.
    const streaming = await connection(f.port);
    streaming.get('/');
    await waitUntil(
      streaming.text,
      (text) => text.endsWith('hello'),
      WAIT_MS,
      'the first answer on the second connection',
    );
    await signalAndDrain(f);
    await untilEvent(f, 'closing');
    assert.equal(f.server.listening, false, 'no longer accepting');
    await assert.rejects(connection(f.port), /ECONNREFUSED/);

    response.end('the full answer');
    await withDeadline(unsent.ended, WAIT_MS, 'the server to end the connection after the answer');
    assert.match(unsent.text(), /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(unsent.text(), /\r\nConnection: close\r\n/i);
    assert.match(unsent.text(), /the full answer$/);
    await withDeadline(streaming.ended, WAIT_MS, 'the idle connection to be ended');
    assert.equal(unsent.error() ?? streaming.error(), undefined, 'no reset');
    await exitsWith(f, 0);
  });

  it('ends the connection of an answer whose head was out before the close, once that answer is done', async () => {
    const f = await start();
    const client = await connection(f.port);
    client.get('/hold');
    const response = await withDeadline(f.held, WAIT_MS, 'the held request');
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('part one, ');
    await waitUntil(client.text, (text) => text.includes('part one'), WAIT_MS, 'the head and first part');
    assert.match(client.text(), /\r\nConnection: keep-alive\r\n/i, 'the head promised keep-alive');
    await signalAndDrain(f);
    await untilEvent(f, 'closing');
    response.end('part two');
    await withDeadline(client.ended, WAIT_MS, 'the server to end the connection after the answer');
    assert.match(client.text(), /part one, .*part two/s);
    await exitsWith(f, 0);
  });

  it('ends an idle keep-alive connection at the close with a FIN, not a reset', async () => {
    const f = await start();
    const client = await connection(f.port);
    client.get('/health/live');
    await waitUntil(client.text, (text) => text.endsWith('{"status":"UP"}'), WAIT_MS, 'the keep-alive answer');
    await signalAndDrain(f);
    await withDeadline(client.ended, 3000, 'the FIN of the idle connection');
    await withDeadline(client.closed, WAIT_MS, 'the connection to close');
    assert.equal(client.error(), undefined, 'no ECONNRESET');
    await exitsWith(f, 0);
  });

  it('ends the watch streams before closing the servers, so an open stream does not hold the close', async () => {
    const f = await start();
    const watcher = await connection(f.port);
    watcher.get('/health/watch');
    await waitUntil(watcher.text, (text) => text.includes('event: snapshot'), WAIT_MS, 'the snapshot event');
    await signalAndDrain(f);
    await untilExit(f.exits, 'the exit (without moving the clock to the deadline)');
    assert.deepEqual(exitEvent(f.events)?.reason, 'done');
    assert.match(watcher.text(), /event: close\n/);
  });

  it('cuts a hung cleanup hook at its timeout, reports a failing one, runs the rest and exits 1', async () => {
    let abortedWith: unknown;
    const ran: string[] = [];
    const f = await start({
      hookTimeoutMs: 300,
      cleanup: [
        {
          name: 'hung',
          run: (signal) =>
            new Promise(() => {
              signal.addEventListener('abort', () => (abortedWith = signal.reason));
            }),
        },
        {
          name: 'throws',
          timeoutMs: 10_000,
          run: () => {
            throw new Error('pool already closed');
          },
        },
        { name: 'last', run: () => void ran.push('last') },
      ],
    });
    await signalAndDrain(f);
    await untilPhase(f, 'cleanup');
    await f.clock.advance(299);
    assert.equal(types(f.events).filter((type) => type.startsWith('cleanup')).length, 0, 'not cut before 300 ms');
    await f.clock.advance(1);
    await untilExit(f.exits, 'the exit');
    const cleanups = f.events.filter((event) => event.type === 'cleanup');
    assert.deepEqual(
      cleanups.map((event) => [event.name, event.outcome, event.durationMs]),
      [
        ['hung', 'timed-out', 300],
        ['throws', 'failed', 0],
        ['last', 'done', 0],
      ],
    );
    assert.equal((cleanups[1]?.error as Error).message, 'pool already closed');
    assert.match(String(abortedWith), /cleanup "hung" timed out after 300 ms/);
    assert.deepEqual(ran, ['last']);
    assert.deepEqual(f.exits, [1]);
    assert.equal(exitEvent(f.events)?.reason, 'failed');
  });

  it('at the deadline aborts the hook under way, and no event follows the exit', async () => {
    let abortedWith: unknown;
    const f = await start({
      drainDelayMs: 0,
      hookTimeoutMs: 60_000,
      cleanup: [
        {
          name: 'flush',
          run: (signal) =>
            new Promise<void>((resolve) => {
              signal.addEventListener('abort', () => {
                abortedWith = signal.reason;
                resolve(); // a hook that ends once told to: its event would come after the exit
              });
            }),
        },
      ],
    });
    f.shutdown.begin('test');
    await untilPhase(f, 'cleanup');
    await f.clock.advance(TIMEOUT_MS);
    await untilExit(f.exits, 'the exit at the deadline');
    assert.match(String(abortedWith), /cleanup "flush" cut short: the shutdown exited \(deadline\)/);
    await new Promise((resolve) => setImmediate(resolve)); // the hook's own settling, had it been emitted
    assert.equal(f.events.at(-1)?.type, 'exit', `the exit is the last event: ${types(f.events).join(', ')}`);
    assert.deepEqual(f.exits, [1]);
  });

  it('at the deadline destroys the connections left and exits 1', async () => {
    const f = await start();
    const stuck = await connection(f.port);
    stuck.get('/hold');
    await withDeadline(f.held, WAIT_MS, 'the held request');
    await signalAndDrain(f);
    await untilEvent(f, 'closing');
    await f.clock.advance(TIMEOUT_MS - 1);
    assert.deepEqual(f.exits, [], 'not before drain + timeout');
    await f.clock.advance(1);
    assert.deepEqual(f.exits, [1]);
    assert.deepEqual(exitEvent(f.events), {
      type: 'exit',
      code: 1,
      reason: 'deadline',
      deadlineMs: DRAIN_MS + TIMEOUT_MS,
      elapsedMs: DRAIN_MS + TIMEOUT_MS,
    });
    await withDeadline(stuck.closed, WAIT_MS, 'the stuck connection to be closed at the deadline');
    // Closing the last connection lets the server close: the sequence, already exited, stays quiet.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(f.exits, [1], 'exit is called once');
  });

  it('exits 1 at once on a second begin (a second signal), whatever it was waiting for', async () => {
    const f = await start({ drainDelayMs: 60_000 });
    f.shutdown.begin('SIGTERM');
    f.shutdown.begin('SIGINT');
    assert.deepEqual(f.exits, [1]);
    assert.deepEqual(types(f.events), ['signal', 'draining', 'signal', 'exit']);
    assert.deepEqual(f.events[2], { type: 'signal', reason: 'SIGINT', repeated: true, elapsedMs: 0 });
    assert.equal(exitEvent(f.events)?.reason, 'repeated');
    await f.clock.advance(60_000 + TIMEOUT_MS);
    f.shutdown.begin('SIGTERM');
    assert.deepEqual(f.exits, [1], 'nothing more after the exit');
  });

  it('skips the drain when the chosen view is already DOWN at the signal, and only then', async () => {
    const down = await start({ skipDrainWhenDown: 'health' });
    down.health.flag('database').set(false, 'disk gone');
    down.shutdown.begin('SIGTERM');
    assert.deepEqual(down.events[1], {
      type: 'draining',
      reason: 'SIGTERM',
      drainDelayMs: 0,
      skippedFor: 'health',
      elapsedMs: 0,
    });
    await untilExit(down.exits, 'the exit, with no clock moved');
    assert.equal(exitEvent(down.events)?.deadlineMs, TIMEOUT_MS, 'the deadline counts no drain');

    // The view holds the flag the shutdown sets: it is judged before, so an UP view keeps the drain.
    const up = await start({ skipDrainWhenDown: 'ready' });
    up.shutdown.begin('SIGTERM');
    assert.deepEqual(up.events[1], { type: 'draining', reason: 'SIGTERM', drainDelayMs: DRAIN_MS, elapsedMs: 0 });
    assert.equal(up.health.view('ready')?.status, 'DOWN');
    await up.clock.advance(DRAIN_MS - 1);
    assert.equal(up.shutdown.phase, 'draining', 'the whole drain is kept: still draining 1 ms before its end');
    await up.clock.advance(1);
    await untilEvent(up, 'closing');

    // With no drain configured there is nothing to skip, and the event does not say so.
    const none = await start({ skipDrainWhenDown: 'health', drainDelayMs: 0 });
    none.health.flag('database').set(false, 'disk gone');
    none.shutdown.begin('SIGTERM');
    assert.deepEqual(none.events[1], { type: 'draining', reason: 'SIGTERM', drainDelayMs: 0, elapsedMs: 0 });
  });

  it('goes on when an event listener throws', async () => {
    const f = await start({
      onEvent: () => {
        throw new Error('logger broken');
      },
    });
    await signalAndDrain(f);
    await exitsWith(f, 0);
  });

  it('closes a server that closes itself (a Fastify app) with its own close, after saying connection: close', async () => {
    const f = await start();
    const calls: string[] = [];
    const app = {
      server: f.server,
      close: () => {
        calls.push('close');
        return new Promise<void>((resolve) => f.server.close(() => resolve()));
      },
    };
    const events: ShutdownEvent[] = [];
    f.shutdown.dispose();
    const shutdown = createShutdown({
      health: f.health,
      servers: [app],
      signals: [],
      drainDelayMs: 0,
      clock: f.clock,
      onEvent: (event) => events.push(event),
      exit: (code) => f.exits.push(code),
    });
    const client = await connection(f.port);
    client.get('/hold');
    const response = await withDeadline(f.held, WAIT_MS, 'the held request');
    shutdown.begin('deploy');
    await waitUntil(
      () => calls,
      (closes) => closes.length > 0,
      WAIT_MS,
      'the app close',
    );
    response.end('done');
    await withDeadline(client.ended, WAIT_MS, 'the connection to end after its answer');
    assert.match(client.text(), /\r\nConnection: close\r\n/i);
    await untilExit(f.exits, 'the exit');
    assert.deepEqual([f.exits, calls], [[0], ['close']]);
  });

  it('installs its signal handlers at once, and removes them at the exit or on dispose', async () => {
    const before = process.listenerCount('SIGTERM');
    const beforeUsr2 = process.listenerCount('SIGUSR2');
    const f = await start({ signals: ['SIGTERM', 'SIGUSR2', 'SIGTERM'] });
    assert.equal(process.listenerCount('SIGTERM'), before + 1, 'a signal listed twice is one handler');
    assert.equal(f.server.listenerCount('request'), 2, 'its request listener and the app');
    f.shutdown.begin('SIGUSR2');
    f.shutdown.begin('SIGUSR2');
    assert.equal(process.listenerCount('SIGTERM'), before);
    assert.equal(process.listenerCount('SIGUSR2'), beforeUsr2);
    assert.equal(f.server.listenerCount('request'), 1);

    const g = await start({ signals: ['SIGTERM'] });
    g.shutdown.dispose();
    assert.equal(process.listenerCount('SIGTERM'), before);
    assert.equal(g.shutdown.phase, 'serving');
  });
});

describe('createShutdown with a real Fastify app', () => {
  it("closes it with app.close() (its onClose hooks run) and handles its server's connections", async () => {
    const health = createHealth({
      checks: [{ name: 'draining', kind: 'flag', healthyWhen: false }],
      views: [{ name: 'ready', path: '/health/ready', checks: ['draining'] }],
    });
    const app = Fastify();
    let release: ((body: string) => void) | undefined;
    app.get('/hold', () => new Promise<string>((resolve) => (release = resolve)));
    app.get('/', () => 'hello');
    const hooks: string[] = [];
    app.addHook('onClose', async () => void hooks.push('onClose'));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    const exits: number[] = [];
    const shutdown = createShutdown({
      health,
      flag: 'draining',
      servers: [app],
      cleanup: [() => void hooks.push('cleanup')],
      signals: [],
      drainDelayMs: 0,
      exit: (code) => exits.push(code),
    });
    try {
      const idle = await connection(port);
      idle.get('/');
      await waitUntil(idle.text, (text) => text.endsWith('hello'), WAIT_MS, 'the answer on the idle connection');
      const busy = await connection(port);
      busy.get('/hold');
      await waitUntil(
        () => release,
        (handler) => handler !== undefined,
        WAIT_MS,
        'the held request to reach its handler',
      );
      shutdown.begin('SIGTERM');
      await withDeadline(idle.ended, WAIT_MS, 'the idle connection to be ended');
      release!('the full answer');
      await withDeadline(busy.ended, WAIT_MS, 'the busy connection to be ended after its answer');
      assert.match(busy.text(), /\r\nconnection: close\r\n/i);
      assert.match(busy.text(), /the full answer$/);
      assert.equal(idle.error() ?? busy.error(), undefined, 'no reset');
      await untilExit(exits, 'the exit');
      assert.deepEqual([exits, hooks], [[0], ['onClose', 'cleanup']], 'the cleanup once the app has closed');
    } finally {
      shutdown.dispose();
      await app.close();
    }
  });
});

describe('createShutdown options', () => {
  const health = createHealth({
    checks: [
      { name: 'draining', kind: 'flag', healthyWhen: false },
      { name: 'started', kind: 'flag' },
    ],
    views: [{ name: 'ready', path: '/ready', checks: ['draining', 'started'] }],
  });
  const bad: [string, Partial<ShutdownOptions>, RegExp][] = [
    [
      'a negative drain',
      { drainDelayMs: -1 },
      /option drainDelayMs must be a number of milliseconds from 0 to 2147483647 \(got -1\)/,
    ],
    [
      'no timeout',
      { timeoutMs: 0 },
      /option timeoutMs must be a number of milliseconds from 1 to 2147483647 \(got 0\)/,
    ],
    // Longer than a Node timer takes: the deadline would fire after 1 ms.
    ['a timeout past a timer', { timeoutMs: 2 ** 31 }, /option timeoutMs must be .* to 2147483647 \(got 2147483648\)/],
    [
      'a drain and timeout past a timer together',
      { drainDelayMs: 2e9, timeoutMs: 2e9 },
      /option drainDelayMs \+ timeoutMs must be at most 2147483647/,
    ],
    [
      'a hook timeout past a timer',
      { cleanup: [{ name: 'x', run() {}, timeoutMs: 3e9 }] },
      /option cleanup\[0\]\.timeoutMs must be/,
    ],
    ['a timeout given as text', { timeoutMs: '5000' as never }, /option timeoutMs must be .* \(got "5000"\)/],
    ['an infinite hook timeout', { hookTimeoutMs: Infinity }, /option hookTimeoutMs must be/],
    ['a signal that cannot be caught', { signals: ['SIGKILL'] }, /option signals holds "SIGKILL"/],
    ['no signal at all', { signals: ['SIGNOPE' as NodeJS.Signals] }, /option signals holds "SIGNOPE"/],
    ['an unknown flag', { flag: 'drainig' }, /option flag names "drainig", which is not a flag check/],
    ['a flag that is DOWN now', { flag: 'started' }, /option flag "started" must be UP with the value false/],
    [
      'an unknown view',
      { skipDrainWhenDown: 'health' },
      /option skipDrainWhenDown names view "health".*\(views: ready\)/,
    ],
    ['a server without close', { servers: [{} as never] }, /option servers\[0\] must be a node:http server/],
    ['a hook without run', { cleanup: [() => {}, { name: 'x' } as never] }, /option cleanup\[1\] must be a function/],
    ['an exit that is not a function', { exit: 1 as never }, /option exit must be a function/],
  ];
  for (const [what, options, message] of bad) {
    it(`refuses ${what}, naming the option`, () => {
      const before = process.listenerCount('SIGTERM');
      assert.throws(() => createShutdown({ health, signals: ['SIGTERM'], ...options }), message);
      assert.equal(process.listenerCount('SIGTERM'), before, 'no handler left behind');
    });
  }

  it('checks flag and view names at compile time when the registry knows them', () => {
    // What createHealth infers from inline options: only these names.
    type Typed = Omit<Health, 'flag' | 'view'> & {
      flag(name: 'draining'): ReturnType<Health['flag']>;
      view(name: 'ready'): ReturnType<Health['view']>;
    };
    const typed = health as unknown as Typed;
    const compile = (f: () => void): void => assert.throws(f);
    // @ts-expect-error -- a misspelt flag
    compile(() => createShutdown({ health: typed, flag: 'drainig', signals: [] }));
    // @ts-expect-error -- a view that does not exist
    compile(() => createShutdown({ health: typed, skipDrainWhenDown: 'health', signals: [] }));
    createShutdown({ health: typed, flag: 'draining', skipDrainWhenDown: 'ready', signals: [] }).dispose();
  });
});
