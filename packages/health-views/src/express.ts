// The Express adapter (Express 4 and 5): a middleware that answers the health routes and calls
// next() for every other request. Express's req and res are node:http's own objects, so it writes
// through the node:http adapter and names no Express type: its .d.ts needs no Express installed.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveHealth } from './node-http.js';
import type { AdapterHooks, Health } from './types.js';

/** Express's `next`, as far as this middleware calls it. */
export type NextFunction = (error?: unknown) => void;

/** An Express middleware (a `RequestHandler`): `app.use(healthMiddleware(health))`. */
export type HealthMiddleware = (request: IncomingMessage, response: ServerResponse, next: NextFunction) => void;

/**
 * Answers the health routes; any other request goes on with `next()`. Paths are matched against
 * `req.url`, which Express makes relative to where the middleware is mounted: under
 * `app.use('/ops', healthMiddleware(health))` a view at `/health/ready` answers `/ops/health/ready`.
 * The hooks receive Express's `req` (annotate the parameter with Express's `Request` to use its members).
 */
export function healthMiddleware(health: Health, hooks: AdapterHooks<IncomingMessage> = {}): HealthMiddleware {
  return function healthMiddleware(request, response, next) {
    if (!serveHealth(health, request, response, hooks)) next();
  };
}
