// The built healthchecker CLI, run as Docker runs it, against real servers in this process.
// Children are spawned asynchronously: a blocking spawnSync would starve the servers they probe.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { withDeadline } from '../helpers/deadline.js';

const CLI = fileURLToPath(new URL('../../dist/healthchecker/healthchecker.cjs', import.meta.url));
/**
 * For runs whose outcome is the server's answer: a deadline they never reach, so a loaded machine
 * (slow child start, busy test process) cannot turn that answer into a timeout.
 */
const PATIENT = '-timeout=20s';
/** Far above the short deadlines used here, far below "hangs". */
const PROMPT_MS = 5_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** From spawn to exit: never less than the CLI's own deadline when it waits for it. */
  readonly elapsedMs: number;
  /** performance.now() when the child had exited. */
  readonly endedAt: number;
}

/** Runs at most `limit` tasks at once; the rest wait their turn in order. */
function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/**
 * Tests run concurrently, but a burst of node processes on a small machine would starve the
 * servers in this process and turn answers into timeouts; a few children at a time keep it fast.
 */
const childSlot = createLimiter(4);

function runCli(args: readonly string[]): Promise<Run> {
  return childSlot(() => spawnCli(args));
}

function spawnCli(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // The kill timeout turns a hanging CLI into a failed assertion instead of a stuck suite.
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => {
      const endedAt = performance.now();
      resolve({ code, stdout, stderr, elapsedMs: endedAt - started, endedAt });
    });
  });
}

function listen<T extends Server | TcpServer>(server: T, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server | TcpServer): Promise<void> {
  return withDeadline(new Promise<void>((resolve) => server.close(() => resolve())), 10_000, 'a test server to close');
}

/** Writes as fast as the client reads, until it goes away. */
function writeForever(res: ServerResponse): void {
  const chunk = Buffer.alloc(16 * 1024, 'x');
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk));
  };
  res.on('drain', pump);
  pump();
}

const DOWN_BODY = JSON.stringify(
  { status: 'DOWN', checks: { database: { status: 'DOWN', error: 'LMDB closed' } } },
  null,
  2,
);

/** When each path was first asked for (performance.now()). */
const requestedAt = new Map<string, number>();

function route(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '';
  if (!requestedAt.has(path)) requestedAt.set(path, performance.now());
  switch (path) {
    case '/health':
    case '/health/live':
    case '/health/ready':
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"UP"}');
      return;
    case '/down':
      res.writeHead(503, { 'content-type': 'application/json' }).end(DOWN_BODY);
      return;
    case '/down-endless':
      res.writeHead(503, { 'content-type': 'text/plain' });
      writeForever(res);
      return;
    case '/down-stalled':
      // Headers and the first bytes, then nothing: only the deadline can end this.
      res.writeHead(503, { 'content-type': 'text/plain' }).write('still thinking');
      return;
    case '/up-endless':
      res.writeHead(200, { 'content-type': 'text/plain' });
      writeForever(res);
      return;
    case '/no-content':
      res.writeHead(204).end();
      return;
    case '/created':
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"status":"UP"}');
      return;
    case '/moved':
      res.writeHead(302, { location: '/moved-target' }).end();
      return;
    default:
      res.writeHead(404).end('no such path');
  }
}

interface SilentServer {
  readonly port: number;
  /** performance.now() of the first connection. */
  readonly firstAccept: Promise<number>;
  close(): Promise<void>;
}

/** Accepts connections and never says a word. */
async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let accepted: (at: number) => void = () => {};
  const firstAccept = new Promise<number>((resolve) => (accepted = resolve));
  const server = createTcpServer((socket) => {
    accepted(performance.now());
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    port,
    firstAccept,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await close(server);
    },
  };
}

/** Writes `text` one byte per write, a millisecond apart, so the probe reads it in many pieces. */
function dribble(socket: Socket, text: string): void {
  socket.setNoDelay(true);
  const bytes = Buffer.from(text, 'latin1');
  let sent = 0;
  const next = (): void => {
    if (socket.destroyed || sent === bytes.length) return;
    socket.write(bytes.subarray(sent, sent + 1));
    sent++;
    setTimeout(next, 1);
  };
  next();
}

/** Writes `line` again and again, as fast as the client reads, until it goes away. */
function repeatForever(socket: Socket, line: string): void {
  const block = Buffer.from(line.repeat(Math.ceil(16_384 / line.length)), 'latin1');
  const pump = (): void => {
    while (!socket.destroyed && socket.write(block));
  };
  socket.on('drain', pump);
  pump();
}

const COMPACT_DOWN = '{"status":"DOWN","checks":{"database":{"status":"DOWN","error":"LMDB closed"}}}';

/**
 * Answers that node:http would not write (split anywhere, broken, or not HTTP at all), by path.
 * Unless a script ends the socket, the connection stays open: the probe must decide without
 * waiting for it to close.
 */
const RAW_SCRIPTS: Readonly<Record<string, (socket: Socket) => void>> = {
  '/dribbled-200': (socket) =>
    dribble(socket, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"status":"UP"}'),
  '/dribbled-chunked-503': (socket) =>
    dribble(
      socket,
      'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `a\r\n${COMPACT_DOWN.slice(0, 10)}\r\n` +
        `10;ext=1\r\n${COMPACT_DOWN.slice(10, 26)}\r\n` +
        `${(COMPACT_DOWN.length - 26).toString(16)}\r\n${COMPACT_DOWN.slice(26)}\r\n` +
        '0\r\n\r\n',
    ),
  '/503-length-kept-open': (socket) =>
    socket.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 17\r\n\r\n{"status":"DOWN"}'),
  '/chunked-malformed': (socket) =>
    socket.write(
      'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nLMDB \r\nzz\r\nclosed\r\n',
    ),
  '/503-length-cut': (socket) =>
    socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\n{"status":"DO'),
  '/early-hints-then-200': (socket) =>
    socket.write(
      'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    ),
  '/ssh': (socket) => socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'),
  '/bad-status': (socket) => socket.write('HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n'),
  '/bad-header': (socket) => socket.write('HTTP/1.1 200 OK\r\nthis is not a header\r\n\r\n'),
  '/endless-status-line': (socket) => {
    socket.write('HTTP/1.1 200 ');
    repeatForever(socket, 'OK');
  },
  '/endless-headers': (socket) => {
    socket.write('HTTP/1.1 200 OK\r\n');
    repeatForever(socket, `X-Filler: ${'a'.repeat(100)}\r\n`);
  },
  // A 200 status line, then headers that never end: not healthy, however long it waits.
  '/stalled-headers': (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n'),
  '/cut-headers': (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Ty'),
  '/closed': (socket) => socket.end(),
};

interface RawServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Reads the request's head, then plays the script for its path. */
async function startRawServer(): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      const path = /^GET (\S+) HTTP\/1\.1\r\n/.exec(head)?.[1] ?? '';
      const script = RAW_SCRIPTS[path];
      if (script === undefined) socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      else script(socket);
    };
    socket.on('data', onData);
  });
  const port = await listen(server);
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await close(server);
    },
  };
}

const http = createServer(route);
let port = 0;
let silent: SilentServer | undefined;
let silentPort = 0;
let raw: RawServer | undefined;
let rawPort = 0;

before(async () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  port = await listen(http);
  silent = await startSilentServer();
  silentPort = silent.port;
  raw = await startRawServer();
  rawPort = raw.port;
});

after(async () => {
  http.closeAllConnections();
  await Promise.all([close(http), silent?.close(), raw?.close()]);
});

/** Asserts Docker's "unhealthy" with the one line of stderr it keeps, and returns that line. */
function assertUnhealthy(run: Run, url: string): string {
  assert.equal(run.code, 1, `exit code (stderr: ${run.stderr})`);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^[^\n]*\n$/, 'exactly one line on stderr');
  assert.ok(run.stderr.startsWith(`healthchecker: GET ${url}: `), run.stderr);
  return run.stderr.trimEnd();
}

function assertBadUsage(run: Run, problem: RegExp): void {
  assert.equal(run.code, 1, 'exit 1, never 2 (Docker reserves it)');
  assert.equal(run.stdout, '');
  const [first, ...rest] = run.stderr.split('\n');
  assert.match(first ?? '', problem);
  assert.match(rest.join('\n'), /^Usage: healthchecker /m);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

// Every run is independent, so the tests of a block run concurrently to keep the file fast; a
// test that checks which paths were requested uses a path no other test asks for.
describe('healthchecker probing a server', { concurrency: true }, () => {
  test('HTTP 200 on /health exits 0 and prints nothing', async () => {
    // A server of its own, so the paths it saw are this run's alone.
    const requests: { path: string; version: string; headers: Record<string, string | undefined> }[] = [];
    const server = createServer((req, res) => {
      const { host, 'user-agent': userAgent, connection } = req.headers;
      requests.push({ path: req.url ?? '', version: req.httpVersion, headers: { host, userAgent, connection } });
      res.end('{"status":"UP"}');
    });
    const ownPort = await listen(server);
    try {
      const run = await runCli([`-port=${ownPort}`, PATIENT]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '');
      assert.equal(run.stdout, '');
      // What the service's access log shows for each probe.
      assert.deepEqual(requests, [
        {
          path: '/health',
          version: '1.1',
          headers: { host: `127.0.0.1:${ownPort}`, userAgent: 'healthchecker', connection: 'close' },
        },
      ]);
    } finally {
      await close(server);
    }
  });

  test('HTTP 503 exits 1 with the status and the body on one line', async () => {
    const run = await runCli([`-port=${port}`, '-path=/down', PATIENT]);
    const line = assertUnhealthy(run, `http://127.0.0.1:${port}/down`);
    assert.ok(line.includes('HTTP 503: {\\n  "status": "DOWN",\\n  "checks": {'), line);
    assert.ok(line.includes('"error": "LMDB closed"'), line);
  });

  test('any success other than 200 (204, 201) exits 1: only 200 means healthy, as in the article healthchecker', async () => {
    for (const [path, status] of [
      ['/no-content', 204],
      ['/created', 201],
    ] as const) {
      const run = await runCli([`-port=${port}`, `-path=${path}`, PATIENT]);
      const line = assertUnhealthy(run, `http://127.0.0.1:${port}${path}`);
      assert.ok(line.includes(`HTTP ${status}`), line);
    }
  });

  test('nothing listening exits 1 with "connection refused"', async () => {
    const probe = createTcpServer();
    const freePort = await listen(probe);
    await close(probe);
    const run = await runCli([`-port=${freePort}`, PATIENT]);
    const line = assertUnhealthy(run, `http://127.0.0.1:${freePort}/health`);
    assert.ok(line.endsWith(': connection refused'), line);
  });

  test('a server that accepts and never answers fails at the deadline', async () => {
    const server = await startSilentServer();
    try {
      const run = await runCli([`-port=${server.port}`, '-timeout=300ms']);
      const line = assertUnhealthy(run, `http://127.0.0.1:${server.port}/health`);
      assert.ok(line.endsWith(': timed out after 300 ms'), line);
      assert.ok(run.elapsedMs >= 250, `gave up ${run.elapsedMs} ms after it started, before its deadline`);
      // Counted from the connection, not the spawn: how long node takes to start is not the point.
      const waited = run.endedAt - (await withDeadline(server.firstAccept, 5000, 'the probe to connect'));
      assert.ok(waited < PROMPT_MS, `still connected ${waited} ms later`);
    } finally {
      await server.close();
    }
  });

  test('without -timeout the deadline is 2 s', async () => {
    const server = await startSilentServer();
    try {
      const run = await runCli([`-port=${server.port}`]);
      const line = assertUnhealthy(run, `http://127.0.0.1:${server.port}/health`);
      assert.ok(line.endsWith(': timed out after 2000 ms'), line);
      assert.ok(run.elapsedMs >= 1_950, `gave up ${run.elapsedMs} ms after it started`);
    } finally {
      await server.close();
    }
  });

  test('a 503 whose body never ends fails with an excerpt, not at the deadline', async () => {
    // Waiting for the end of this body would mean waiting for the 20 s deadline (and a note).
    const run = await runCli([`-port=${port}`, '-path=/down-endless', PATIENT]);
    const line = assertUnhealthy(run, `http://127.0.0.1:${port}/down-endless`);
    assert.match(line, /: HTTP 503: x{200}\.\.\.$/);
  });

  test('a 503 whose body stalls fails at the deadline with what arrived', async () => {
    // Long enough for the headers to arrive first even on a busy machine.
    const run = await runCli([`-port=${port}`, '-path=/down-stalled', '-timeout=2s']);
    const line = assertUnhealthy(run, `http://127.0.0.1:${port}/down-stalled`);
    assert.ok(line.endsWith(': HTTP 503: still thinking (body still arriving after 2000 ms)'), line);
    assert.ok(run.elapsedMs >= 1_950, `gave up ${run.elapsedMs} ms after it started, before its deadline`);
    const waited = run.endedAt - (requestedAt.get('/down-stalled') ?? Number.NaN);
    assert.ok(waited < PROMPT_MS, `still reading ${waited} ms after the request arrived`);
  });

  test('a 200 whose body never ends is healthy at once', async () => {
    // Healthy can only mean it did not wait for the body: it never ends.
    const run = await runCli([`-port=${port}`, '-path=/up-endless', PATIENT]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
  });

  test('a redirect is a failure and is not followed', async () => {
    const run = await runCli([`-port=${port}`, '-path=/moved', PATIENT]);
    const line = assertUnhealthy(run, `http://127.0.0.1:${port}/moved`);
    assert.ok(line.includes(': HTTP 302 (redirects are not followed)'), line);
    assert.ok(line.endsWith('Location: /moved-target'), line);
    assert.ok(!requestedAt.has('/moved-target'), 'the redirect was followed');
  });

  test('without -port it probes the original default, port 80', async () => {
    // A reserved name that never resolves keeps this deterministic whatever listens on port 80;
    // the trailing dot stops resolv.conf's search domains from turning it into a real name.
    const run = await runCli(['-host=healthchecker-test.invalid.']);
    assert.equal(run.code, 1, run.stderr);
    assert.ok(run.stderr.includes('http://healthchecker-test.invalid.:80/health:'), run.stderr);
  });
});

describe('healthchecker reading what a server sends', { concurrency: true }, () => {
  /** Runs the probe against a raw script; every outcome here is the server's, never the deadline's. */
  const probeRaw = (path: string, ...args: string[]): Promise<Run> =>
    runCli([`-port=${rawPort}`, `-path=${path}`, PATIENT, ...args]);
  const rawUrl = (path: string): string => `http://127.0.0.1:${rawPort}${path}`;

  test('a 200 that arrives one byte at a time is healthy, without waiting for the connection to close', async () => {
    const run = await probeRaw('/dribbled-200');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
  });

  test('a chunked 503 that arrives one byte at a time shows its body without the chunk framing', async () => {
    const run = await probeRaw('/dribbled-chunked-503');
    const line = assertUnhealthy(run, rawUrl('/dribbled-chunked-503'));
    // Reported at the last chunk: the connection stays open, so no deadline note either.
    assert.ok(line.endsWith(`: HTTP 503: ${COMPACT_DOWN}`), line);
  });

  test('a 503 with a Content-Length is reported once that many bytes arrived', async () => {
    const run = await probeRaw('/503-length-kept-open');
    const line = assertUnhealthy(run, rawUrl('/503-length-kept-open'));
    assert.ok(line.endsWith(': HTTP 503: {"status":"DOWN"}'), line);
  });

  test(
    'a 503 whose body framing breaks or is cut short shows what arrived and says so',
    { concurrency: true },
    async (t) => {
      const cases: [string, string][] = [
        ['/chunked-malformed', ': HTTP 503: LMDB (malformed chunked body)'],
        ['/503-length-cut', ': HTTP 503: {"status":"DO (connection lost while reading the body)'],
      ];
      await Promise.all(
        cases.map(([path, ending]) =>
          t.test(path, async () => {
            const line = assertUnhealthy(await probeRaw(path), rawUrl(path));
            assert.ok(line.endsWith(ending), line);
          }),
        ),
      );
    },
  );

  test('an informational 103 before the 200 is skipped', async () => {
    const run = await probeRaw('/early-hints-then-200');
    assert.equal(run.code, 0, run.stderr);
  });

  test('a server that speaks something else fails at once, showing what it sent', async () => {
    const run = await probeRaw('/ssh');
    const line = assertUnhealthy(run, rawUrl('/ssh'));
    assert.ok(line.endsWith(': not an HTTP response (it began "SSH-2.0-OpenSSH_9.2p1 Debian-2\\r\\n")'), line);
  });

  test('a malformed status line or header line is a failure, not a 200', { concurrency: true }, async (t) => {
    const cases: [string, string][] = [
      ['/bad-status', ': not a valid HTTP response (bad status line "HTTP/1.1 2OO OK")'],
      ['/bad-header', ': not a valid HTTP response (bad header line "this is not a header")'],
    ];
    await Promise.all(
      cases.map(([path, ending]) =>
        t.test(path, async () => {
          const line = assertUnhealthy(await probeRaw(path), rawUrl(path));
          assert.ok(line.endsWith(ending), line);
        }),
      ),
    );
  });

  test(
    'a status line or header block that never ends fails at a size limit, not at the deadline',
    { concurrency: true },
    async (t) => {
      const cases: [string, string][] = [
        ['/endless-status-line', ': not an HTTP response (no end of the status line in its first 4096 bytes)'],
        ['/endless-headers', ': not a valid HTTP response (the header block is longer than 16384 bytes)'],
      ];
      await Promise.all(
        cases.map(([path, ending]) =>
          t.test(path, async () => {
            const line = assertUnhealthy(await probeRaw(path), rawUrl(path));
            assert.ok(line.endsWith(ending), line);
          }),
        ),
      );
    },
  );

  test('a 200 whose header block stalls is unhealthy at the deadline', async () => {
    // The status line says 200, but a response cut short in its headers is not an answer.
    const run = await runCli([`-port=${rawPort}`, '-path=/stalled-headers', '-timeout=1s']);
    const line = assertUnhealthy(run, rawUrl('/stalled-headers'));
    assert.ok(line.endsWith(': timed out after 1000 ms'), line);
  });

  test('a connection closed inside the header block or before any answer says so', { concurrency: true }, async (t) => {
    const cases: [string, string][] = [
      ['/cut-headers', ': not a valid HTTP response (the connection closed inside the header block, after 27 bytes)'],
      ['/closed', ': the server closed the connection without answering'],
    ];
    await Promise.all(
      cases.map(([path, ending]) =>
        t.test(path, async () => {
          const line = assertUnhealthy(await probeRaw(path), rawUrl(path));
          assert.ok(line.endsWith(ending), line);
        }),
      ),
    );
  });
});

describe('healthchecker flags', { concurrency: true }, () => {
  test('every spelling of -port reaches the server', { concurrency: true }, async (t) => {
    const spellings = [[`-port=${port}`], ['-port', `${port}`], [`--port=${port}`], ['--port', `${port}`]];
    await Promise.all(
      spellings.map((args) =>
        t.test(args.join(' '), async () => {
          const run = await runCli([...args, PATIENT]);
          assert.equal(run.code, 0, run.stderr);
        }),
      ),
    );
  });

  test('-path chooses the path that is probed', { concurrency: true }, async (t) => {
    const cases: [string[], string][] = [
      [['-path=/health/live'], '/health/live'],
      [['--path', '/health/ready'], '/health/ready'],
    ];
    await Promise.all(
      cases.map(([args, path]) =>
        t.test(args.join(' '), async () => {
          const run = await runCli([`-port=${port}`, ...args, PATIENT]);
          assert.equal(run.code, 0, run.stderr);
          assert.ok(requestedAt.has(path), `requested ${[...requestedAt.keys()].join(', ')}`);
        }),
      ),
    );
  });

  test('-host takes a name or an address', { concurrency: true }, async (t) => {
    const spellings = [['-host=127.0.0.1'], ['-host', 'localhost'], ['--host=127.0.0.1']];
    await Promise.all(
      spellings.map((args) =>
        t.test(args.join(' '), async () => {
          const run = await runCli([...args, `-port=${port}`, PATIENT]);
          assert.equal(run.code, 0, run.stderr);
        }),
      ),
    );
  });

  test('-host takes an IPv6 literal and brackets it in the URL', async (t) => {
    const server = createServer(route);
    const v6Port = await listen(server, '::1').catch(() => undefined);
    if (v6Port === undefined) return t.skip('no IPv6 loopback on this machine');
    try {
      const healthy = await runCli(['-host=::1', `-port=${v6Port}`, PATIENT]);
      assert.equal(healthy.code, 0, healthy.stderr);
      const down = await runCli(['-host', '::1', `-port=${v6Port}`, '-path=/down', PATIENT]);
      assertUnhealthy(down, `http://[::1]:${v6Port}/down`);
    } finally {
      server.closeAllConnections();
      await close(server);
    }
  });

  test('-timeout takes milliseconds or a Go duration', { concurrency: true }, async (t) => {
    // Against a silent server the message shows the deadline the value was read as.
    const deadlines: [string[], number][] = [
      [['-timeout=300'], 300],
      [['-timeout', '300ms'], 300],
      [['--timeout=0.3s'], 300],
      [['--timeout', '.25s'], 250],
    ];
    const timedOut = deadlines.map(([args, ms]) =>
      t.test(`${args.join(' ')} against a silent server`, async () => {
        const run = await runCli([`-port=${silentPort}`, ...args]);
        const line = assertUnhealthy(run, `http://127.0.0.1:${silentPort}/health`);
        assert.ok(line.endsWith(`: timed out after ${ms} ms`), line);
      }),
    );
    const accepted = ['2s', '1m', '1m30s', '1h'].map((duration) =>
      t.test(`-timeout=${duration} is accepted`, async () => {
        const run = await runCli([`-port=${port}`, `-timeout=${duration}`]);
        assert.equal(run.code, 0, run.stderr);
      }),
    );
    await Promise.all([...timedOut, ...accepted]);
  });

  test('-help, -h and --help print the usage on stdout and exit 0', { concurrency: true }, async (t) => {
    await Promise.all(
      ['-help', '-h', '--help'].map((flag) =>
        t.test(flag, async () => {
          const run = await runCli([flag]);
          assert.equal(run.code, 0);
          assert.equal(run.stderr, '');
          assert.match(run.stdout, /^Usage: healthchecker /);
          assert.match(run.stdout, /-timeout /);
        }),
      ),
    );
  });

  test('a bad flag or value exits 1, never 2, naming the problem above the usage', { concurrency: true }, async (t) => {
    const cases: [string[], RegExp][] = [
      [['-verbose'], /unknown flag "-verbose"/],
      [['--port=1', '--retries=3'], /unknown flag "--retries=3"/],
      [['-port=abc'], /invalid value "abc" for -port/],
      [['-port=70000'], /invalid value "70000" for -port/],
      [['-port=0'], /invalid value "0" for -port/],
      [['-port'], /flag -port needs a value/],
      [['-port', '-timeout=1s'], /flag -port needs a value/],
      [['-timeout=fast'], /invalid value "fast" for -timeout/],
      [['-timeout=0s'], /invalid value "0s" for -timeout/],
      [['-path=health'], /invalid value "health" for -path/],
      [['-host=not a host'], /invalid value "not a host" for -host/],
      [['-port=6767', '6767'], /unexpected argument "6767"/],
    ];
    await Promise.all(
      cases.map(([args, problem]) => t.test(args.join(' '), async () => assertBadUsage(await runCli(args), problem))),
    );
  });
});
