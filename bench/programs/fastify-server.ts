// The framework floor: bare Fastify (no logger, no hooks, no metrics) answering the same bytes as
// raw-server.ts, from the same Map. Between raw node:http and this lies Fastify's own cost;
// between this and the service lies what the service adds (store, logging, request ids, metrics).
//
// With --lmdb DIR it reads each account from the service's own LMDB store (seeded in DIR) instead:
// the first rung of the ladder from bare Fastify to the service, what the store read costs.
//
// With --log-file FILE it is what a user would run instead of the service: Fastify with its own
// default request logging (`logger: true`: pino at info, an "incoming request" and a "request
// completed" line per request, pino's default synchronous destination), written to FILE.
//
//   PORT=0 HOST=127.0.0.1 node --import tsx bench/programs/fastify-server.ts [--lmdb DIR | --log-file FILE]
//   prints {"port":N} once listening

import Fastify from 'fastify';
import { join } from 'node:path';
import { pino } from 'pino';
import { encodeAccount } from '../../src/accounts/account.js';
import { LmdbAccountStore } from '../../src/accounts/lmdb-account-store.js';
import { seedAccounts } from '../../src/accounts/seed.js';

/** The value of --name, undefined when absent; exits 2 when it is given without one. */
function option(name: string, what: string): string | undefined {
  const at = process.argv.indexOf(name);
  if (at === -1) return undefined;
  const value = process.argv[at + 1];
  if (value === undefined || value.startsWith('--')) {
    process.stderr.write(`fastify-server: ${name} needs ${what}\n`);
    process.exit(2);
  }
  return value;
}

const lmdbDir = option('--lmdb', 'a directory');
const logFile = option('--log-file', 'a file');
const memory = new Map<string, Uint8Array>();
for (const account of seedAccounts(100)) memory.set(account.id, encodeAccount(account));
let accounts: { get(id: string): Uint8Array | undefined | Promise<Uint8Array | undefined> } = memory;
if (lmdbDir !== undefined) {
  const store = LmdbAccountStore.open(join(lmdbDir, 'accounts.mdb'));
  await store.seed(seedAccounts(100));
  accounts = { get: (id) => store.getAccountJson(id) };
}
const UP = Buffer.from('{"status":"UP"}');
const JSON_TYPE = 'application/json; charset=utf-8';

// Fastify's logger: true, with pino's own destination (synchronous, as pino's default) on the file.
const logger = logFile === undefined ? false : { level: 'info', stream: pino.destination({ dest: logFile, sync: true }) };
const app = Fastify({ logger, keepAliveTimeout: 65_000, requestTimeout: 10_000 });
app.get<{ Params: { accountId: string } }>('/accounts/:accountId', async (request, reply) => {
  const found = accounts.get(request.params.accountId);
  // No await for the Map (or LMDB, which answers at once): the anchor stays what it was.
  const json = found instanceof Promise ? await found : found;
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
