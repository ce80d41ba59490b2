// The framework floor: bare Fastify (no logger, no hooks, no metrics) answering the same bytes as
// bench/raw-server.mjs, from the same Map. Between raw node:http and this lies Fastify's own cost;
// between this and the service lies what the service adds (store, health registry, logging,
// request ids, metrics).
//
//   PORT=0 HOST=127.0.0.1 node bench/fastify-server.mjs     prints {"port":N} once listening

import Fastify from 'fastify';
import { seedAccounts } from '../dist/src/accounts/seed.js';
import { encodeAccount } from '../dist/src/accounts/account.js';

const accounts = new Map();
for (const account of seedAccounts(Number(process.env.SEED_ACCOUNTS ?? 100))) accounts.set(account.id, encodeAccount(account));
const UP = Buffer.from('{"status":"UP"}');
const JSON_TYPE = 'application/json; charset=utf-8';

const app = Fastify({ logger: false, keepAliveTimeout: 65_000, requestTimeout: 10_000 });
app.get('/accounts/:accountId', async (request, reply) => {
  const json = accounts.get(request.params.accountId);
  if (json === undefined) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'not found' });
  return reply.header('x-content-type-options', 'nosniff').header('content-type', JSON_TYPE).send(json);
});
app.get('/health', async (_request, reply) =>
  reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store').header('content-type', JSON_TYPE).send(UP),
);

const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(address).port) })}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
