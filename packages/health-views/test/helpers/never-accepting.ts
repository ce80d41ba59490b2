// A TCP port that takes a SYN and never answers it, on loopback, offline: a listener in a child
// process whose event loop is blocked (so it never accepts) and whose accept queue is full. The
// kernel completes handshakes only while the queue has room; once it is full, a new SYN is dropped
// and the connect hangs, as a blackholed host does. The child blocks in Atomics.wait, using no CPU,
// and exits by itself after LIFETIME_MS, so even a crashed test leaves nothing behind for long.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { withDeadline } from './deadline.js';

export interface NeverAccepting {
  readonly host: string;
  readonly port: number;
  close(): void;
}

const LIFETIME_MS = 60_000;
const LISTENER = `
const server = require('node:net').createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () =>
  process.stdout.write(server.address().port + '\\n', () => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${LIFETIME_MS});
    process.exit(0);
  }),
);`;

export async function neverAcceptingPort(): Promise<NeverAccepting> {
  const child = spawn(process.execPath, ['-e', LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const fillers: Socket[] = [];
  const close = (): void => {
    for (const socket of fillers) socket.destroy();
    child.kill('SIGKILL');
  };
  try {
    const [line] = (await withDeadline(once(child.stdout, 'data'), 10_000, 'the listener to print its port')) as [
      Buffer,
    ];
    const port = Number(String(line).trim());
    // Fill the queue: connect until one attempt stays unanswered.
    for (let attempt = 0; ; attempt++) {
      if (attempt === 20) throw new Error(`the accept queue of port ${port} did not fill after 20 connections`);
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      const connected = await Promise.race([
        once(socket, 'connect').then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 300)),
      ]);
      if (!connected) {
        socket.destroy();
        await withDeadline(once(socket, 'close'), 5000, 'the unanswered probe to close');
        return { host: '127.0.0.1', port, close };
      }
      fillers.push(socket);
    }
  } catch (error) {
    close();
    throw error;
  }
}
