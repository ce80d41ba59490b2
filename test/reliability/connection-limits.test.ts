// How many connections the service holds open at once (HTTP_MAX_CONNECTIONS), against the built
// service: those over the limit are closed as they arrive, with no answer and one log line for
// the lot, and the service takes new ones again once some close.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startService, type ServiceProcess } from '../helpers/service-process.js';
import { openRawConnection, parseResponses } from './support.js';
import { waitFor } from '../helpers/wait.js';
import { withDeadline } from '../helpers/deadline.js';

const running: ServiceProcess[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
});

const GET_HEALTH = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';

describe('HTTP_MAX_CONNECTIONS', () => {
  it('closes connections over the limit as they arrive, logs them once, and serves again once some close', async (t) => {
    const service = await startService({ env: { HTTP_MAX_CONNECTIONS: '8' } });
    running.push(service);
    const port = Number(new URL(service.url).port);
    const held = await Promise.all(Array.from({ length: 8 }, () => openRawConnection(port)));
    try {
      // Each held connection is really open: it is answered.
      for (const client of held) client.socket.write(GET_HEALTH);
      await waitFor(() => held.every((client) => parseResponses(client.received()).length === 1), {
        what: 'an answer on each of the 8 connections',
      });
      const over = await Promise.all(Array.from({ length: 3 }, () => openRawConnection(port)));
      for (const client of over) client.socket.write(GET_HEALTH);
      await withDeadline(
        Promise.all(over.map((client) => client.closed)),
        5000,
        'the 3 connections over the limit to close',
      );
      assert.deepEqual(
        over.map((client) => client.received()),
        ['', '', ''],
        'closed with no answer',
      );
      const refusals = await waitFor(
        () => {
          const lines = service.logs.filter((line) => /^refused \d+ connections?:/.test(String(line.msg)));
          return lines.length > 0 && lines;
        },
        { what: 'the log line about refused connections' },
      );
      assert.match(
        String(refusals[0]!.msg),
        /^refused 1 connection: 8 are open, the most HTTP_MAX_CONNECTIONS allows$/,
        'the first is reported at once; the two after it together, later',
      );
      held[0]!.socket.destroy();
      await held[0]!.closed;
      const again = await waitFor(
        async () => {
          const client = await openRawConnection(port);
          client.socket.write(GET_HEALTH);
          const answered = await Promise.race([
            waitFor(() => parseResponses(client.received()).length === 1, { timeoutMs: 1000 }).then(() => true),
            client.closed.then(() => false),
          ]).catch(() => false);
          if (!answered) client.socket.destroy();
          return answered && client;
        },
        { what: 'a new connection to be served once one of the 8 closed' },
      );
      assert.equal(parseResponses(again.received())[0]!.status, 200);
      t.diagnostic(
        `3 of 11 connections refused with the limit at 8; logged as ${JSON.stringify(refusals.map((l) => l.msg))}`,
      );
      again.socket.destroy();
    } finally {
      for (const client of held) client.socket.destroy();
    }
  });
});
