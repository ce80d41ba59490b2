// health-views: named, routed health views over pushed and polled checks, framework-free.
// The Fastify plugin is a separate entry point (health-views/fastify), so this one loads no types
// of a framework the user may not have.

export type * from './types.js';
export type * from './lifecycle-types.js';
export { createHealth } from './registry.js';
export { attachHealth, withHealth, type RequestListener } from './node-http.js';
export { MIN_TOKEN_LENGTH } from './disclosure.js';
export { createShutdown } from './lifecycle.js';
