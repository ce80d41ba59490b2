// The connection guard on a bare node:http server (it knows no framework): a connection with more
// answers queued than the limit is closed and the requests parsed after that never reach the
// app; so is one whose queued answers hold too many bytes, but never one that asks one at a time;
// connections over the limit are refused; a client that pipelines within the limit and reads is
// served in full; once closing, a connection whose answers are all written but unread is closed,
// and so is one still sending its request, but not one with a request still being computed.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { guardConnections, type ConnectionGuard } from '../../src/http/connection-guard.js';
import { openRawConnection, parseResponses } from '../reliability/support.js';
import { withDeadline } from '../helpers/deadline.js';
import { waitFor } from '../helpers/wait.js';

const servers: Server[] = [];
const clients: Socket[] = [];
after(async () => {
  // A paused client never reads the server's close: left open, it would keep this file's process alive.
  for (const client of clients) client.destroy();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function open(port: number): ReturnType<typeof openRawConnection> {
  const client = await openRawConnection(port);
  clients.push(client.socket);
  return client;
}

/** By default, answers come a turn of the event loop later, as an async framework's do. */
const answerLater: Handler = (_req, res) => setImmediate(() => res.end('{"ok":true}'));

interface GuardLimits {
  readonly maxQueuedResponses: number;
  readonly maxQueuedBytes?: number;
  readonly maxConnections?: number;
}

async function startServer(limits: number | GuardLimits, handler: Handler = answerLater) {
  let seen = 0;
  const overflows: number[] = [];
  const overflowBytes: number[] = [];
  const refused: number[] = [];
  const server = createServer((req, res) => {
    seen += 1;
    handler(req, res);
  });
  const guard: ConnectionGuard = guardConnections(server, {
    ...(typeof limits === 'number' ? { maxQueuedResponses: limits } : limits),
    closingFlushMs: 200,
    refusedReportMs: 300,
    onRefused: (count) => refused.push(count),
    onOverflow: (_socket, queued) => {
      overflows.push(queued.responses);
      overflowBytes.push(queued.bytes);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { server, guard, port: address.port, seen: () => seen, overflows, overflowBytes, refused };
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

describe('guardConnections', () => {
  it('closes a connection with more answers queued than the limit; later requests never reach the app', async () => {
    const { port, seen, overflows } = await startServer(8);
    const client = await open(port);
    client.socket.write(GET.repeat(1000));
    await withDeadline(client.closed, 5000, 'the connection to be closed');
    assert.deepEqual(overflows, [9]);
    assert.equal(seen(), 8, 'only the admitted requests reached the app');
  });

  it('closes a connection holding more answer bytes than maxQueuedBytes, though under the answer limit', async () => {
    // The attack: 31 pipelined requests (one under the answer limit), each answered with
    // 80 KB, never read. Answered in one turn, as an async framework answers a packet's requests.
    const answer = 'x'.repeat(80 * 1024);
    const maxQueuedBytes = 128 * 1024;
    const { server, port, seen, overflows, overflowBytes } = await startServer(
      { maxQueuedResponses: 32, maxQueuedBytes },
      (_req, res) => queueMicrotask(() => res.end(answer)),
    );
    const accepted: Socket[] = [];
    server.on('connection', (socket: Socket) => accepted.push(socket));
    const client = await open(port);
    client.socket.pause();
    client.socket.write(GET.repeat(31));
    // Seen from the server: a paused client would not notice the close until it reads.
    await waitFor(() => accepted[0]?.destroyed === true, {
      timeoutMs: 5000,
      what: 'the connection holding 31 unread answers of 80 KB to be closed',
    });
    client.socket.destroy();
    assert.equal(seen(), 31);
    assert.equal(overflows.length, 1, `one overflow reported, got ${JSON.stringify(overflows)}`);
    const held = overflowBytes[0]!;
    // Cut at the answer that took it over the limit: never more than the limit and that answer.
    assert.ok(
      held > maxQueuedBytes && held <= maxQueuedBytes + answer.length + 1024,
      `closed holding ${held} bytes; expected just over ${maxQueuedBytes}, at most ${maxQueuedBytes + answer.length + 1024}`,
    );
  });

  it('never closes a client that asks one at a time, however large the answer it has not read yet', async () => {
    // 8 MB: more than the kernel takes for a client that is not reading, so most of it waits in
    // the process; only pipelined answers count against maxQueuedBytes.
    const answer = 'y'.repeat(8 * 1024 * 1024);
    let ended = 0;
    const { port, overflows } = await startServer({ maxQueuedResponses: 32, maxQueuedBytes: 128 * 1024 }, (_req, res) =>
      queueMicrotask(() => {
        res.end(answer);
        ended += 1;
      }),
    );
    const client = await open(port);
    for (let round = 1; round <= 2; round++) {
      client.socket.pause();
      client.socket.write(GET);
      await waitFor(() => ended === round, { timeoutMs: 5000, what: `answer ${round} written` });
      client.socket.resume();
      await waitFor(() => parseResponses(client.received()).length === round, {
        timeoutMs: 5000,
        what: `answer ${round} in full`,
      });
    }
    assert.deepEqual(overflows, [], 'no connection closed');
    client.socket.destroy();
  });

  it('refuses connections over maxConnections, reports them without a line each, and takes new ones once some close', async () => {
    const { port, refused } = await startServer({ maxQueuedResponses: 8, maxConnections: 3 });
    const held = await Promise.all([open(port), open(port), open(port)]);
    const over = await Promise.all([open(port), open(port), open(port), open(port)]);
    for (const client of over) client.socket.write(GET);
    await withDeadline(
      Promise.all(over.map((client) => client.closed)),
      5000,
      'the connections over the limit to be closed',
    );
    assert.deepEqual(
      over.map((client) => client.received()),
      ['', '', '', ''],
      'closed without an answer',
    );
    // The first at once, the rest together after the report interval (300 ms here): not a call per connection.
    await waitFor(() => refused.reduce((sum, count) => sum + count, 0) === 4, {
      timeoutMs: 5000,
      what: 'the four refusals reported',
    });
    assert.ok(refused.length <= 2, `reported in ${refused.length} calls: ${JSON.stringify(refused)}`);
    const [first] = held;
    first.socket.destroy();
    await first.closed;
    const again = await open(port);
    again.socket.write(GET);
    await waitFor(() => parseResponses(again.received()).length === 1, {
      timeoutMs: 5000,
      what: 'an answer on a new connection once one closed',
    });
    for (const client of [...held, again]) client.socket.destroy();
  });

  it('serves a client that pipelines within the limit and reads, in full and in order', async () => {
    const { port, overflows } = await startServer(8);
    const client = await open(port);
    for (let round = 1; round <= 5; round++) {
      client.socket.write(GET.repeat(8));
      await waitFor(() => parseResponses(client.received()).length >= round * 8, {
        timeoutMs: 5000,
        what: `round ${round}`,
      });
    }
    assert.deepEqual(overflows, []);
    const responses = parseResponses(client.received());
    assert.ok(responses.every((response) => response.status === 200 && response.body === '{"ok":true}'));
    client.socket.destroy();
  });

  it('once closing: closes a connection whose answers are written and unread, and one still sending its request, not one still answering', async () => {
    let held: ServerResponse | undefined;
    // 2000 answers of 100 KB each: far more than the socket buffers hold, so most stay unread.
    const big = 'x'.repeat(100 * 1024);
    const { server, guard, port } = await startServer(
      { maxQueuedResponses: 10_000, maxQueuedBytes: 1024 ** 3 },
      (req, res) => {
        if (req.url === '/held') held = res;
        else res.end(big);
      },
    );
    // Seen from the server: a paused client would not notice the close until it reads.
    const accepted: Socket[] = [];
    server.on('connection', (socket: Socket) => accepted.push(socket));
    const unread = await open(port);
    unread.socket.pause();
    unread.socket.write(GET.repeat(2000));
    const busy = await open(port);
    busy.socket.write('GET /held HTTP/1.1\r\nHost: x\r\n\r\n');
    // Still sending its headers: Node stops timing them once its server closes.
    const partial = await open(port);
    partial.socket.write('GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: a');
    await waitFor(() => held !== undefined, { timeoutMs: 5000, what: 'the held request' });
    const closedAt = Date.now();
    guard.beginClosing();
    const [unreadOnServer, busyOnServer, partialOnServer] = accepted;
    await withDeadline(
      new Promise((resolve) => (unreadOnServer!.destroyed ? resolve(null) : unreadOnServer!.once('close', resolve))),
      3000,
      'the unread connection to be closed',
    );
    await withDeadline(
      new Promise((resolve) => (partialOnServer!.destroyed ? resolve(null) : partialOnServer!.once('close', resolve))),
      3000,
      'the connection still sending its headers to be closed',
    );
    assert.ok(Date.now() - closedAt >= 200, 'not before closingFlushMs');
    assert.equal(busyOnServer!.destroyed, false, 'the connection with an answer to come stays open');
    held!.end('late');
    await waitFor(() => busy.received().endsWith('late'), { timeoutMs: 5000, what: 'the held answer' });
    busy.socket.destroy();
    unread.socket.destroy();
    partial.socket.destroy();
  });
});
