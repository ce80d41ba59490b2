// The start-up runner (src/service/start-up.ts): steps in order, each logged as it begins; a step
// that fails or a stop between steps closes what the earlier steps opened, last first, and the
// start's own error is the one thrown.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import {
  createOpenedParts,
  runStartUp,
  StartAborted,
  type StartPhase,
  type StartStep,
} from '../../src/service/start-up.js';

/** A run whose log lines and entered phases the test reads. */
function recorded(signal?: AbortSignal) {
  const logged: string[] = [];
  const entered: StartPhase[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line).msg) });
  return { logged, entered, run: { signal, logger, entered: (phase: StartPhase) => entered.push(phase) } };
}

/** A step that opens a part named after its phase and records its closing in `closed`. */
function opening(phase: StartPhase, opened: ReturnType<typeof createOpenedParts>, closed: string[]): StartStep {
  return { phase, run: () => opened.add(() => void closed.push(phase)) };
}

describe('runStartUp', () => {
  it('runs the steps in order, logging each phase as it begins', async () => {
    const opened = createOpenedParts();
    const ran: StartPhase[] = [];
    const steps: StartStep[] = (['opening the database', 'seeding', 'listening'] as const).map((phase) => ({
      phase,
      run: () => void ran.push(phase),
    }));
    const { logged, entered, run } = recorded();
    await runStartUp(steps, opened, run);
    assert.deepEqual(ran, ['opening the database', 'seeding', 'listening']);
    assert.deepEqual(entered, ran);
    assert.deepEqual(logged, ['start-up: opening the database', 'start-up: seeding', 'start-up: listening']);
  });

  it('a failing step: what the steps before it opened is closed, last first, and its own error is thrown', async () => {
    const opened = createOpenedParts();
    const closed: string[] = [];
    const failure = new Error('the store cannot be read');
    const steps: StartStep[] = [
      opening('opening the database', opened, closed),
      opening('seeding', opened, closed),
      {
        phase: 'first checks',
        run: () => {
          // A close that fails does not keep the parts opened before it open.
          opened.add(() => Promise.reject(new Error('closing the checks failed')));
          throw failure;
        },
      },
      opening('building the app', opened, closed),
    ];
    await assert.rejects(runStartUp(steps, opened, recorded().run), (error) => error === failure);
    assert.deepEqual(closed, ['seeding', 'opening the database']);
  });

  it('a stop during a step: no later step runs, StartAborted, and what was opened is closed', async () => {
    const opened = createOpenedParts();
    const closed: string[] = [];
    const abort = new AbortController();
    const steps: StartStep[] = [
      opening('opening the database', opened, closed),
      { phase: 'seeding', run: () => abort.abort('SIGTERM') },
      opening('first checks', opened, closed),
    ];
    const { entered, run } = recorded(abort.signal);
    await assert.rejects(runStartUp(steps, opened, run), StartAborted);
    assert.deepEqual(entered, ['opening the database', 'seeding']);
    assert.deepEqual(closed, ['opening the database']);
  });
});

describe('createOpenedParts', () => {
  it('closes each part once, however often closeAll is called; one added while closing is closed too', async () => {
    const opened = createOpenedParts();
    const closed: string[] = [];
    opened.add(() => void closed.push('store'));
    const first = opened.closeAll();
    opened.add(() => void closed.push('late'));
    await Promise.all([first, opened.closeAll(), opened.closeAll()]);
    assert.deepEqual(closed, ['store', 'late']);
  });
});
