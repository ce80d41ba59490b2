// health-views/checks: the built-in checks, one per file, each a factory of a polled check to put
// in createHealth's `checks`. An entry point of its own, so that importing the package root loads
// none of their modules for a service that uses none of them.

export { tcpCheck, type TcpCheckOptions } from './tcp.js';
export { httpCheck, type ExpectedStatus, type HttpCheckOptions, type HttpCheckTls } from './http.js';
export { eventLoopCheck, type EventLoopCheckOptions } from './event-loop.js';
export { memoryCheck, type MemoryCheckOptions } from './memory.js';
export { diskCheck, type DiskCheckOptions } from './disk.js';
export type { BuiltInCheck, BuiltInCheckOptions } from './options.js';
