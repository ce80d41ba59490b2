// health-views: named, routed health views over pushed and polled checks, framework-free.
// The Fastify plugin is a separate entry point (health-views/fastify), so this one loads no types
// of a framework the user may not have. The built-in checks are here too, beside createHealth: they
// load only node: modules a server has anyway (the http check loads node:http/https at its first run).

export type * from './types.js';
export { createHealth } from './registry.js';
export { attachHealth, withHealth, type RequestListener } from './node-http.js';
export { MIN_TOKEN_LENGTH } from './disclosure.js';
export { tcpCheck, type TcpCheckOptions } from './checks/tcp.js';
export { httpCheck, type ExpectedStatus, type HttpCheckOptions, type HttpCheckTls } from './checks/http.js';
export { eventLoopCheck, type EventLoopCheckOptions } from './checks/event-loop.js';
export { memoryCheck, type MemoryCheckOptions } from './checks/memory.js';
export { diskCheck, type DiskCheckOptions } from './checks/disk.js';
export type { BuiltInCheck, BuiltInCheckOptions } from './checks/options.js';
