// The connection guard on a bare node:http server (it knows no framework): a connection with more
// answers queued than the limit is closed and the requests parsed after that never reach the
// app; a client that pipelines within the limit and reads is served in full; once closing, a
// connection whose answers are all written but unread is closed, one with a request still being
// computed is not.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { guardConnections, type ConnectionGuard } from '../../src/http/connection-guard.js';
import { openRawConnection as open, parseResponses } from '../reliability/support.js';
import { withDeadline } from '../helpers/deadline.js';

const servers: Server[] = [];
after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** By default, answers come a turn of the event loop later, as an async framework's do. */
const answerLater: Handler = (_req, res) => setImmediate(() => res.end('{"ok":true}'));

async function startServer(maxQueuedResponses: number, handler: Handler = answerLater) {
  let seen = 0;
  const overflows: number[] = [];
  const server = createServer((req, res) => {
    seen += 1;
    handler(req, res);
  });
  const guard: ConnectionGuard = guardConnections(server, {
    maxQueuedResponses,
    closingFlushMs: 200,
    onOverflow: (_socket, queued) => overflows.push(queued),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { server, guard, port: address.port, seen: () => seen, overflows };
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('guardConnections', () => {
  it('closes a connection with more answers queued than the limit; later requests never reach the app', async () => {
    const { port, seen, overflows } = await startServer(8);
    const client = await open(port);
    client.socket.write(GET.repeat(1000));
    await withDeadline(client.closed, 5000, 'the connection to be closed');
    assert.deepEqual(overflows, [9]);
    assert.equal(seen(), 8, 'only the admitted requests reached the app');
  });

  it('serves a client that pipelines within the limit and reads, in full and in order', async () => {
    const { port, overflows } = await startServer(8);
    const client = await open(port);
    for (let round = 1; round <= 5; round++) {
      client.socket.write(GET.repeat(8));
      await withDeadline(
        (async () => {
          while (parseResponses(client.received()).length < round * 8) await tick();
        })(),
        5000,
        `round ${round}`,
      );
    }
    assert.deepEqual(overflows, []);
    const responses = parseResponses(client.received());
    assert.ok(responses.every((response) => response.status === 200 && response.body === '{"ok":true}'));
    client.socket.destroy();
  });

  it('once closing: closes a connection whose answers are written and unread, not one still answering', async () => {
    let held: ServerResponse | undefined;
    // 2000 answers of 100 KB each: far more than the socket buffers hold, so most stay unread.
    const big = 'x'.repeat(100 * 1024);
    const { server, guard, port } = await startServer(10_000, (req, res) => {
      if (req.url === '/held') held = res;
      else res.end(big);
    });
    // Seen from the server: a paused client would not notice the close until it reads.
    const accepted: Socket[] = [];
    server.on('connection', (socket: Socket) => accepted.push(socket));
    const unread = await open(port);
    unread.socket.pause();
    unread.socket.write(GET.repeat(2000));
    const busy = await open(port);
    busy.socket.write('GET /held HTTP/1.1\r\nHost: x\r\n\r\n');
    await withDeadline(
      (async () => {
        while (held === undefined) await tick();
      })(),
      5000,
      'the held request',
    );
    const closedAt = Date.now();
    guard.beginClosing();
    const [unreadOnServer, busyOnServer] = accepted;
    await withDeadline(
      new Promise((resolve) => (unreadOnServer!.destroyed ? resolve(null) : unreadOnServer!.once('close', resolve))),
      3000,
      'the unread connection to be closed',
    );
    assert.ok(Date.now() - closedAt >= 200, 'not before closingFlushMs');
    assert.equal(busyOnServer!.destroyed, false, 'the connection with an answer to come stays open');
    held!.end('late');
    await withDeadline(
      (async () => {
        while (!busy.received().endsWith('late')) await tick();
      })(),
      5000,
      'the held answer',
    );
    busy.socket.destroy();
    unread.socket.destroy();
  });
});
