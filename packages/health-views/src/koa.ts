// The Koa adapter: a middleware that answers the health routes through `ctx` (status, headers,
// body), so Koa's own response handling and HEAD apply, and awaits next() for every other request.
// Koa is described by the few members used, not imported: its .d.ts needs no Koa installed.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerOf, hostHeaders, reportAnswered } from './adapter.js';
import { writeStream } from './node-http.js';
import type { AdapterHooks, Health, HealthRequest } from './types.js';

/** The members of Koa's `ctx` the middleware uses (a Koa `Context` has them). */
export interface KoaContextLike {
  readonly method: string;
  /** Relative to a koa-mount prefix, as Koa's own routers see it. */
  readonly url: string;
  readonly headers: HealthRequest['headers'];
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  status: number;
  body: unknown;
  set(headers: { [name: string]: string | string[] }): void;
  /** Set false for the watch stream, which is written to `res` directly. */
  respond?: boolean;
}

/** Koa's `next`. */
export type KoaNext = () => Promise<unknown>;

/** A Koa middleware: `app.use(healthMiddleware(health))`. */
export type KoaHealthMiddleware = (ctx: KoaContextLike, next: KoaNext) => Promise<void>;

/** Answers the health routes; any other request goes on with `await next()`. The hooks receive `ctx`. */
export function healthMiddleware(health: Health, hooks: AdapterHooks<KoaContextLike> = {}): KoaHealthMiddleware {
  return async function healthMiddleware(ctx, next) {
    const startedAt = hooks.onAnswered ? performance.now() : 0;
    const answer = answerOf(health, { method: ctx.method, url: ctx.url, headers: ctx.headers });
    if (answer === undefined) {
      await next();
      return;
    }
    const extra = hostHeaders(hooks, ctx);
    ctx.status = answer.statusCode;
    if (answer.kind === 'stream') {
      // Written to the response itself: Koa 3 pipes a stream body with stream.pipeline(), which
      // reports every watcher that leaves as an error of the app (logged with its stack).
      ctx.respond = false;
      writeStream(ctx.req, ctx.res, answer, extra);
    } else {
      // The package's own headers last, so they win; all before the body: Koa gives a body a type
      // of its own only when none is set yet. Koa sends no body for HEAD (keeping the length) or a 204.
      if (extra !== undefined) ctx.set(extra);
      ctx.set(answer.headers);
      ctx.body = answer.body;
    }
    reportAnswered(hooks, ctx, ctx.method, answer, startedAt, extra);
  };
}
