// The least a Node probe can do, as the healthchecker's anchor: connect to 127.0.0.1:PORT, send
// one GET /health, exit 0 when the status line says 200, else 1. No argument checks, no timeout,
// no reading past the first chunk: what is left of the healthchecker's wall time over this is
// what its care costs; what this takes over `node -e 0` is the floor of any probe run by node.
'use strict';
const socket = require('node:net').connect(Number(process.argv[2]), '127.0.0.1', () => {
  socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
});
socket.once('data', (chunk) => {
  process.exitCode = chunk.toString('latin1', 0, 12) === 'HTTP/1.1 200' ? 0 : 1;
  socket.destroy();
});
socket.on('error', () => {
  process.exitCode = 1;
});
