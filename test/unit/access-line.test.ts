// The access line written from pino's template (src/observability/access-line.ts) is the line pino
// itself writes for the same fields, byte for byte, with the service's own logger options; where
// pino's options would make them differ, no template writer is made and pino writes the line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { pino } from 'pino';
import { createLoggers } from '../../src/process/logger.js';
import { createStdoutDestination } from '../../src/process/log-destination.js';
import { createAccessLineWriter, type AccessLine } from '../../src/observability/access-line.js';

/** Fields that need escaping, or none, as URLs, ids and messages can bring them. */
const LINES: AccessLine[] = [
  {
    requestId: 'abc-123',
    method: 'GET',
    route: '/accounts/:accountId',
    url: '/accounts/10000',
    statusCode: 200,
    durationMs: 0.42,
    msg: 'GET /accounts/10000 200 0.42 ms',
  },
  {
    requestId: 'f3b1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    method: 'DELETE',
    route: 'unmatched',
    url: '/a"b\\c?q="x"',
    statusCode: 404,
    durationMs: 12,
    msg: 'DELETE /a"b\\c?q="x" 404 12 ms',
  },
  {
    requestId: 'r',
    method: 'GET',
    route: 'unmatched',
    url: '/caf\u00e9/\u00fc\u00ff/\u2028',
    statusCode: 400,
    durationMs: 1234.5,
    msg: 'tab\there, newline\nthere, \u0001',
  },
  {
    requestId: 'x.y_z:1',
    method: 'HEAD',
    route: '/health',
    url: `/${'x'.repeat(200)}...`,
    statusCode: 503,
    durationMs: 0,
    msg: 'HEAD',
  },
];

/** The time field, which differs between two lines written a moment apart. */
const sameTime = (line: string): string => line.replace(/"time":\d+/, '"time":0');

test("the template writer writes pino's own line for the same fields, at info and debug", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'accountservice-access-line-'));
  const fd = openSync(join(dir, 'log'), 'w');
  try {
    const { accessLogger } = createLoggers({ level: 'debug', pretty: false }, createStdoutDestination({ fd }));
    const write = createAccessLineWriter(accessLogger, 'requestId');
    assert.ok(write, "the service's access logger has a template");
    for (const level of ['info', 'debug'] as const) {
      for (const { msg, requestId, ...fields } of LINES) {
        accessLogger[level]({ requestId, ...fields }, msg);
        write(level, { requestId, msg, ...fields });
      }
    }
    await nextTurn();
    const written = readFileSync(join(dir, 'log'), 'utf8').split('\n').filter(Boolean).map(sameTime);
    assert.equal(written.length, 16);
    for (let i = 0; i < written.length; i += 2) assert.equal(written[i + 1], written[i], `line ${i / 2}`);
  } finally {
    await nextTurn();
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('another request id label goes where pino puts it', () => {
  const lines: string[] = [];
  const logger = pino({ base: { service: 'x' } }, { write: (line: string) => lines.push(line) });
  const write = createAccessLineWriter(logger, 'reqId');
  const { msg, requestId, ...fields } = LINES[0]!;
  logger.info({ reqId: requestId, ...fields }, msg);
  write!('info', LINES[0]!);
  assert.equal(sameTime(lines[1]!), sameTime(lines[0]!));
});

test('no template writer when pino adds something per call: a mixin, a log formatter, a message prefix, a hook', () => {
  const stream = { write: () => {} };
  for (const options of [
    { mixin: () => ({ at: Date.now() }) },
    { formatters: { log: (object: Record<string, unknown>) => ({ ...object, extra: 1 }) } },
    { msgPrefix: '[access] ' },
    { hooks: { streamWrite: (line: string) => line } },
  ]) {
    assert.equal(
      createAccessLineWriter(pino(options, stream), 'requestId'),
      undefined,
      JSON.stringify(Object.keys(options)),
    );
  }
});
