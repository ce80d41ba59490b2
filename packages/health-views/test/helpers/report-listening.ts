// Loaded into a README program's process by the README test (`node --import tsx --import this`):
// writes where each server listens to file descriptor 3, which the test reads, and keeps a server
// given no host on the loopback interface. The program itself runs as the README writes it.

import { writeSync } from 'node:fs';
import { Server } from 'node:net';

const LOOPBACK = '127.0.0.1';

// Server.prototype.listen has many overloads; the arguments are passed through as they came.
// eslint-disable-next-line @typescript-eslint/unbound-method -- applied below to the server it is called on
const listen = Server.prototype.listen as (this: Server, ...args: unknown[]) => Server;

Server.prototype.listen = function listenReported(this: Server, ...args: unknown[]): Server {
  this.once('listening', () => {
    writeSync(3, `${JSON.stringify(this.address())}\n`);
  });
  return listen.apply(this, onLoopback(args));
} as Server['listen'];

/** `listen(port, cb)` and `listen({ port })` bind every interface: the test wants loopback only. */
function onLoopback(args: unknown[]): unknown[] {
  const [first, second] = args;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return typeof second === 'string' ? args : [first, LOOPBACK, ...args.slice(1)];
  }
  if (typeof first === 'object' && first !== null && !('host' in first) && 'port' in first) {
    return [{ ...first, host: LOOPBACK }, ...args.slice(1)];
  }
  return args;
}
