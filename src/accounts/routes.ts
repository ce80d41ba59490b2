// GET /accounts/:accountId: answers the stored JSON bytes with `servedBy` spliced in, with no parse and no
// re-serialise.

import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ACCOUNT_ID_RULE, isValidAccountId } from './account.js';
import { StoreUnavailableError, type AccountStore } from './account-store.js';
import { httpError } from '../shared/http-error.js';
import { servedBySuffix, withServedBy } from './served-by.js';

/**
 * How long a lookup may wait for the store before answering 503. LMDB reads take microseconds;
 * a store that takes a second is sick, and a client is better told so than left waiting.
 */
export const LOOKUP_TIMEOUT_MS = 1000;

/** What a client is told when the store cannot answer: fixed words, whatever the cause. */
export const STORE_UNAVAILABLE = 'the account database is unavailable right now; try again later';

export interface AccountRoutesOptions {
  readonly store: Pick<AccountStore, 'getAccountJson'>;
  /** Named in every answer's `servedBy` field. */
  readonly servedBy: string;
}

export const accountRoutes: FastifyPluginAsync<AccountRoutesOptions> = async (app, options) => {
  const { store } = options;
  const suffix = servedBySuffix(options.servedBy);
  // Not an async handler: a store that answers at once (LMDB reads are synchronous) is answered in
  // the same turn, with no promise, microtask or timer per request; one that returns a promise gets
  // the lookup deadline. Fastify turns a throw here, or a rejection of the returned promise, into the
  // error answer, as it would for an async handler.
  app.get<{ Params: { accountId: string } }>('/accounts/:accountId', (request, reply) => {
    const { accountId } = request.params;
    if (!isValidAccountId(accountId)) throw httpError(400, ACCOUNT_ID_RULE);
    let found: Uint8Array | undefined | Promise<Uint8Array | undefined>;
    try {
      found = store.getAccountJson(accountId);
    } catch (error) {
      throw storeFailure(error);
    }
    if (!(found instanceof Promise)) return sendAccount(reply, accountId, found, suffix);
    return withDeadline(found, LOOKUP_TIMEOUT_MS).then(
      (json) => sendAccount(reply, accountId, json, suffix),
      (error: unknown) => {
        throw storeFailure(error);
      },
    );
  });
};

/** The account's bytes with servedBy spliced in, or 404 when there is none. */
function sendAccount(reply: FastifyReply, accountId: string, json: Uint8Array | undefined, suffix: Buffer): undefined {
  if (json === undefined) throw httpError(404, `account ${accountId} not found`);
  void reply.header('content-type', 'application/json; charset=utf-8').send(withServedBy(json, suffix));
  return undefined;
}

/** An outage the client may retry: the store's own words (paths, library text) stay in the log. */
function storeFailure(error: unknown): unknown {
  return error instanceof StoreUnavailableError ? httpError(503, STORE_UNAVAILABLE, error) : error;
}

/**
 * The lookup's result, or StoreUnavailableError once ms have passed: a hanging store never hangs a
 * request.
 */
async function withDeadline<T>(lookup: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`the account lookup timed out after ${ms} ms`)), ms);
  });
  return Promise.race([lookup, deadline]).finally(() => clearTimeout(timer));
}
