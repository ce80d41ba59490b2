// The test build's service (dist/test-support/accountservice-bundle.cjs): the production service,
// run by the same runMain, with its seams: the phase named by --pause-in waits --pause-ms after its
// log line ("start-up: seeding"), ending early when a stop signal aborts the start; --pause-in=
// "listener open" waits once the service listens ("Starting HTTP service at ..."), before its
// shutdown takes the stop signals over.

import { setTimeout as sleep } from 'node:timers/promises';
import { runMain } from '../../src/process/main.js';
import { phasePause } from './phase-pause.js';

const pause = phasePause(process.argv);

runMain(process.env, {
  onPhase: async (phase, signal) => {
    if (phase !== pause?.phase) return;
    await sleep(pause.ms, undefined, signal ? { signal } : {}).catch(() => {});
  },
  onListening: async () => {
    if (pause?.phase === 'listener open') await sleep(pause.ms);
  },
});
