// The log destination (src/log-destination.ts) with the service's loggers (src/logger.ts): access
// lines wait for the end of their event-loop turn and go out together; every other line goes out at
// once, after them; and every exit that runs JavaScript writes what is held. Real files and real
// child processes, no fakes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createLoggers } from '../../src/process/logger.js';
import { createStdoutDestination } from '../../src/process/log-destination.js';
import { ROOT } from '../helpers/service-process.js';
import { runTsToEnd } from '../helpers/run-to-end.js';

interface Line {
  readonly level: number;
  readonly msg: string;
}

/** Loggers writing to a temp file, and a way to read what the file holds right now. */
function loggersOnFile(
  maxBufferBytes?: number,
): ReturnType<typeof createLoggers> & { read(): Line[]; dropped(): number; close(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'accountservice-log-'));
  const file = join(dir, 'stdout.log');
  const fd = openSync(file, 'w');
  const destination = createStdoutDestination({ fd, ...(maxBufferBytes === undefined ? {} : { maxBufferBytes }) });
  return {
    ...createLoggers({ level: 'info', pretty: false }, destination),
    read: () =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Line),
    dropped: () => destination.droppedLines(),
    async close() {
      // Not while a line (the warning about drops comes a turn after the write) may still be
      // written: the descriptor's number would be reused, by a child's pipe in a later test.
      await nextTurn();
      await nextTurn();
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('access lines wait for the end of their event-loop turn, then are all written', async () => {
  const log = loggersOnFile();
  try {
    for (let i = 0; i < 3; i++) log.accessLogger.info(`access ${i}`);
    assert.deepEqual(log.read(), [], 'nothing is written before the turn ends');
    await nextTurn();
    assert.deepEqual(
      log.read().map((line) => line.msg),
      ['access 0', 'access 1', 'access 2'],
    );
  } finally {
    await log.close();
  }
});

test('a fatal line logged after access lines of the same turn is written at once, and after them', async () => {
  const log = loggersOnFile();
  try {
    log.accessLogger.info('access 0');
    log.accessLogger.info('access 1');
    log.logger.fatal('the end');
    // Read before this turn ends: the fatal line did not wait, and took the access lines with it.
    assert.deepEqual(
      log.read().map((line) => [line.level, line.msg]),
      [
        [30, 'access 0'],
        [30, 'access 1'],
        [60, 'the end'],
      ],
    );
  } finally {
    await log.close();
  }
});

test('start-up and warning lines are written at once too', async () => {
  const log = loggersOnFile();
  try {
    log.logger.info('Starting accountservice');
    log.logger.warn('a warning');
    assert.deepEqual(
      log.read().map((line) => line.msg),
      ['Starting accountservice', 'a warning'],
    );
  } finally {
    await log.close();
  }
});

test('the buffer is bounded: access lines beyond it in one turn are dropped and counted', async () => {
  // 64 KiB, the smallest LOG_BUFFER_BYTES: about 64 of these 1 KiB lines fit, not 200.
  const log = loggersOnFile(64 * 1024);
  try {
    const padding = 'x'.repeat(1000);
    for (let i = 0; i < 200; i++) log.accessLogger.info({ padding }, `access ${i}`);
    await nextTurn();
    const written = log.read().length;
    assert.ok(written > 0 && written <= 64, `expected at most 64 lines written, got ${written}`);
    assert.equal(log.dropped(), 200 - written, 'every line not written is counted as dropped');
    await nextTurn();
    assert.deepEqual(
      log.read().slice(written),
      [{ ...log.read()[written], level: 40, msg: `dropped ${200 - written} log lines while stdout was blocked` }],
      'one warning says how many',
    );
  } finally {
    await log.close();
  }
});

/** Runs test/helpers/log-exit-child.ts; resolves with its exit code and the lines it wrote to stdout. */
async function runChild(count: number, how: string): Promise<{ code: number | string; lines: Line[]; stderr: string }> {
  const run = await runTsToEnd(join(ROOT, 'test/helpers/log-exit-child.ts'), [`${count}`, how], 20_000);
  const lines = run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);
  return { code: run.code, lines, stderr: run.stderr };
}

for (const [how, code] of [
  ['exit', 0],
  ['throw', 1],
  ['reject', 1],
] as const) {
  test(`the access lines of the last turn are written when the process ends by ${how} in that turn`, async () => {
    const run = await runChild(50, how);
    assert.equal(run.code, code, run.stderr);
    assert.equal(run.lines.length, 50, `expected all 50 access lines, got ${run.lines.length}: ${run.stderr}`);
  });
}

test('a fatal line before process.exit comes after the access lines of its turn', async () => {
  const run = await runChild(20, 'fatal');
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.lines.length, 21, run.stderr);
  assert.deepEqual(run.lines.at(-1), { ...run.lines.at(-1), level: 60, msg: 'fatal after the access lines' });
  assert.ok(
    run.lines.slice(0, 20).every((line) => line.level === 30),
    'the 20 access lines come first',
  );
});
