// A careless operator's settings against the built service: each is refused before anything
// opens (no database file, no start-up phase, nothing listening), with one stderr line that names
// the setting and exit 1; never a start that runs silently laxer than asked.

import { after, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { oneLine } from '../../src/shared/one-line.js';
import { startServiceRaw } from '../helpers/service-process.js';
import { withDeadline } from '../helpers/deadline.js';

type Raw = ReturnType<typeof startServiceRaw>;
const running: Raw[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
});

const PREFIX = 'accountservice: invalid configuration: ';

/** A port something else already listens on (127.0.0.1), for as long as the test runs. */
async function portInUse(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

/** Asserts the service was refused with exactly one stderr line, which matches line. */
async function refusedWithOneLine(t: TestContext, env: Record<string, string>, line: RegExp): Promise<string> {
  const { lines, tookMs } = await refused(env);
  t.diagnostic(`${oneLine(JSON.stringify(env))}: exit 1 after ${tookMs} ms: ${lines.join(' / ')}`);
  assert.equal(lines.length, 1, `one stderr line, got ${JSON.stringify(lines)}`);
  assert.ok(lines[0]!.startsWith(PREFIX), lines[0]);
  assert.match(lines[0]!.slice(PREFIX.length), line);
  return lines[0]!;
}

/** Runs the service with env to its exit; resolves with its stderr lines once it has exited 1. */
async function refused(env: Record<string, string>): Promise<{ lines: string[]; service: Raw; tookMs: number }> {
  const startedAt = Date.now();
  const service = startServiceRaw({ env, waitForListen: false });
  running.push(service);
  const closed = once(service.child, 'close'); // after the exit and all of stdout and stderr
  // Bounded: were the refusal broken, the service would start and never exit.
  assert.equal(await service.exitedWithin(15_000), 1, `exit code; stderr: ${service.stderr()}`);
  const tookMs = Date.now() - startedAt;
  await withDeadline(closed, 5000, 'stdout and stderr to close');
  const stderr = service.stderr();
  assert.ok(stderr.endsWith('\n'), `stderr ends its last line: ${JSON.stringify(stderr)}`);
  assert.deepEqual(
    service.logs.filter((line) => line.codeCache === undefined),
    [],
    "nothing logged (but the launcher's code cache line): no start-up phase began",
  );
  assert.equal(existsSync(`${service.dataDir}/accounts.mdb`), false, 'the database file was never created');
  return { lines: stderr.slice(0, -1).split('\n'), service, tookMs };
}

describe('settings refused before anything opens (built service)', { concurrency: true }, () => {
  for (const value of ['Production', 'prod', 'staging']) {
    it(`NODE_ENV=${value}: refused, not run as development`, async (t) => {
      const { lines, tookMs } = await refused({ NODE_ENV: value });
      t.diagnostic(`NODE_ENV=${value}: exit 1 after ${tookMs} ms: ${lines.join(' / ')}`);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.ok(
        lines[0]!.startsWith(`${PREFIX}NODE_ENV must be production, development or test, or unset (got "${value}")`),
        lines[0],
      );
    });
  }

  it('HOST that does not resolve: named, before the database is opened and seeded', async (t) => {
    // .invalid never resolves (RFC 6761); without a resolver the lookup fails as well, with another code.
    await refusedWithOneLine(
      t,
      { HOST: 'abc.invalid' },
      /^HOST abc\.invalid does not resolve to an address \([^)]+\): /,
    );
  });

  it('HOST that is not an address of this machine: named', async (t) => {
    // 192.0.2.0/24 is for documentation (RFC 5737): never this machine's.
    await refusedWithOneLine(
      t,
      { HOST: '192.0.2.1' },
      /^HOST 192\.0\.2\.1 is not an address of this machine \(EADDRNOTAVAIL\)/,
    );
  });

  it('PORT and METRICS_PORT in use: each named, in one line each', async (t) => {
    const taken = await portInUse();
    await refusedWithOneLine(
      t,
      { PORT: String(taken) },
      new RegExp(`^PORT ${taken} is already in use on 127\\.0\\.0\\.1 `),
    );
    const takenToo = await portInUse();
    await refusedWithOneLine(
      t,
      { METRICS_PORT: String(takenToo) },
      new RegExp(`^METRICS_PORT ${takenToo} is already in use on 127\\.0\\.0\\.1 `),
    );
  });

  it('a newline or another control character in a value never splits the line that quotes it', async (t) => {
    const line = await refusedWithOneLine(t, { HOST: 'abc\ninvalid' }, /^HOST must be an IP address or a host name/);
    assert.ok(line.includes('(got "abc\\ninvalid")'), line);
    await refusedWithOneLine(
      t,
      { LOG_LEVEL: 'info\u2028fatal' },
      /^LOG_LEVEL must be one of .* \(got "info\\u2028fatal"\)$/,
    );
  });
});
