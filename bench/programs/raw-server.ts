// The Node ceiling: a bare node:http server answering what the service answers, from memory, with
// the same headers and the same bytes (the accounts come from the service's own seed and encoder).
// Whatever the service spends beyond this is the cost of Fastify, LMDB, the health registry and us.
//
//   PORT=0 HOST=127.0.0.1 node --import tsx bench/programs/raw-server.ts     prints {"port":N} once listening

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeAccount } from '../../src/accounts/account.js';
import { seedAccounts } from '../../src/accounts/seed.js';

const accounts = new Map<string, Uint8Array>();
for (const account of seedAccounts(100)) accounts.set(`/accounts/${account.id}`, encodeAccount(account));
const UP = Buffer.from('{"status":"UP"}');
const NOT_FOUND = Buffer.from('{"statusCode":404,"error":"Not Found","message":"not found"}');
const JSON_TYPE = 'application/json; charset=utf-8';

const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 10_000 }, (request, response) => {
  const url = request.url ?? '/';
  let status = 200;
  let body = accounts.get(url);
  if (body === undefined) {
    if (url === '/health') {
      body = UP;
      response.setHeader('cache-control', 'no-store');
    } else {
      status = 404;
      body = NOT_FOUND;
    }
  }
  response.writeHead(status, { 'x-content-type-options': 'nosniff', 'content-type': JSON_TYPE, 'content-length': body.length });
  response.end(body);
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
