// health-views: named, routed health views over pushed and polled checks, framework-free.
// The Fastify plugin is a separate entry point (health-views/fastify), so this one loads no types
// of a framework the user may not have; so are the built-in checks (health-views/checks), so that
// this one loads none of their modules for a service that uses none of them.

export type * from './types.js';
export { createHealth } from './registry.js';
export { attachHealth, withHealth } from './node-http.js';
export { MIN_TOKEN_LENGTH } from './disclosure.js';
export { createShutdown } from './lifecycle.js';
