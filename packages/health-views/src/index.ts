// health-views: named, routed health views over pushed and polled checks, framework-free.

export type * from './types.js';
export { createHealth } from './registry.js';
export { withHealth } from './node-http.js';
