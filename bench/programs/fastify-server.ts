// The framework floor: bare Fastify (no logger, no hooks, no metrics) answering the same bytes as
// raw-server.ts, from the same Map. Between raw node:http and this lies Fastify's own cost;
// between this and the service lies what the service adds (store, logging, request ids, metrics).
//
//   PORT=0 HOST=127.0.0.1 node --import tsx bench/programs/fastify-server.ts     prints {"port":N} once listening

import Fastify from 'fastify';
import { encodeAccount } from '../../src/accounts/account.js';
import { seedAccounts } from '../../src/accounts/seed.js';

const accounts = new Map<string, Uint8Array>();
for (const account of seedAccounts(100)) accounts.set(account.id, encodeAccount(account));
const UP = Buffer.from('{"status":"UP"}');
const JSON_TYPE = 'application/json; charset=utf-8';

const app = Fastify({ logger: false, keepAliveTimeout: 65_000, requestTimeout: 10_000 });
app.get<{ Params: { accountId: string } }>('/accounts/:accountId', async (request, reply) => {
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
