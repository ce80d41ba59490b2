// The test build's launcher (dist/test-support/accountservice.cjs): the production launcher's own
// parts, bundled in, run on the test build's bundle beside it, as launch() runs them: the stop
// signals held first, then the bundle started. Between the two it logs "start-up: launching" and,
// with --pause-in=launching, blocks --pause-ms as a slow load would.

import fs = require('node:fs');
import launcher = require('../../launcher/accountservice.cjs');
import phasePause = require('./phase-pause.js');

const pause = phasePause.phasePause(process.argv);

const letGo = launcher.holdStopSignals();
const line = { level: 30, time: Date.now(), service: 'accountservice', phase: 'launching', msg: 'start-up: launching' };
fs.writeSync(1, `${JSON.stringify(line)}\n`);
// Synchronous, as the bundle's load is: a signal meanwhile waits for the service's handlers.
if (pause?.phase === 'launching') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause.ms);
launcher.startBundle();
letGo();
