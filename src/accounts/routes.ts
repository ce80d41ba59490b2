// GET /accounts/:accountId: answers the stored JSON bytes as they are, with no parse and no re-serialise.

import type { FastifyPluginAsync } from 'fastify';
import { ACCOUNT_ID_RULE, isValidAccountId } from './account.js';
import type { AccountStore } from './account-store.js';
import { httpError } from '../http-errors.js';

export interface AccountRoutesOptions {
  readonly store: Pick<AccountStore, 'getAccountJson'>;
}

export const accountRoutes: FastifyPluginAsync<AccountRoutesOptions> = async (app, { store }) => {
  app.get<{ Params: { accountId: string } }>('/accounts/:accountId', async (request, reply) => {
    const { accountId } = request.params;
    if (!isValidAccountId(accountId)) throw httpError(400, ACCOUNT_ID_RULE);
    const json = await store.getAccountJson(accountId);
    if (json === undefined) throw httpError(404, `account ${accountId} not found`);
    return reply.header('content-type', 'application/json; charset=utf-8').send(json);
  });
};
