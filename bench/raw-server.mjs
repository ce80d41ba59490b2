// The Node ceiling: a bare node:http server answering what the service answers, from memory, with
// the same headers and the same bytes (the accounts come from the service's own seed and encoder).
// Whatever the service spends beyond this is the cost of Fastify, LMDB, the health registry and us.
//
//   PORT=0 HOST=127.0.0.1 node bench/raw-server.mjs     prints {"port":N} once listening

import { createServer } from 'node:http';
import { seedAccounts } from '../dist/src/accounts/seed.js';
import { encodeAccount } from '../dist/src/accounts/account.js';

const accounts = new Map();
for (const account of seedAccounts(Number(process.env.SEED_ACCOUNTS ?? 100))) {
  accounts.set(`/accounts/${account.id}`, encodeAccount(account));
}
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
  response.writeHead(status, {
    'x-content-type-options': 'nosniff',
    'content-type': JSON_TYPE,
    'content-length': body.length,
  });
  response.end(body);
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
