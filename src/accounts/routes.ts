// GET /accounts/:accountId: answers the stored JSON bytes with `servedBy` spliced in, with no parse and no
// re-serialise.

import type { FastifyPluginAsync } from 'fastify';
import { ACCOUNT_ID_RULE, isValidAccountId } from './account.js';
import { StoreUnavailableError, type AccountStore } from './account-store.js';
import { httpError } from '../http-errors.js';
import { servedBySuffix, withServedBy } from './served-by.js';

/**
 * How long a lookup may wait for the store before answering 503. LMDB reads take microseconds;
 * a store that takes a second is sick, and a client is better told so than left waiting.
 */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 1000;

/** What a client is told when the store cannot answer: fixed words, whatever the cause. */
export const STORE_UNAVAILABLE = 'the account database is unavailable right now; try again later';

export interface AccountRoutesOptions {
  readonly store: Pick<AccountStore, 'getAccountJson'>;
  /** Default DEFAULT_LOOKUP_TIMEOUT_MS. */
  readonly lookupTimeoutMs?: number | undefined;
  /** Named in every answer's `servedBy` field. */
  readonly servedBy: string;
}

export const accountRoutes: FastifyPluginAsync<AccountRoutesOptions> = async (app, options) => {
  const { store } = options;
  const lookupTimeoutMs = options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
  const suffix = servedBySuffix(options.servedBy);
  app.get<{ Params: { accountId: string } }>('/accounts/:accountId', async (request, reply) => {
    const { accountId } = request.params;
    if (!isValidAccountId(accountId)) throw httpError(400, ACCOUNT_ID_RULE);
    let json: Uint8Array | undefined;
    try {
      json = await withDeadline(store.getAccountJson(accountId), lookupTimeoutMs);
    } catch (error) {
      // An outage the client may retry; the store's own words (paths, library text) stay in the log.
      if (error instanceof StoreUnavailableError) throw httpError(503, STORE_UNAVAILABLE, error);
      throw error;
    }
    if (json === undefined) throw httpError(404, `account ${accountId} not found`);
    return reply.header('content-type', 'application/json; charset=utf-8').send(withServedBy(json, suffix));
  });
};

/**
 * The lookup's result, or StoreUnavailableError once ms have passed: a hanging store never hangs a
 * request. A lookup that has already answered when asked (an LMDB read is synchronous underneath,
 * so nearly every one) is taken as it is, with no timer armed and cleared for it.
 */
async function withDeadline<T>(lookup: Promise<T>, ms: number): Promise<T> {
  let answered: { readonly value: T } | undefined;
  lookup.then(
    (value) => {
      answered = { value };
    },
    () => {}, // a rejected lookup takes the path below, which rethrows its error
  );
  // One microtask turn: the callback above runs first if the lookup had already settled.
  await Promise.resolve();
  if (answered !== undefined) return answered.value;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`the account lookup timed out after ${ms} ms`)), ms);
  });
  return Promise.race([lookup, deadline]).finally(() => clearTimeout(timer));
}
