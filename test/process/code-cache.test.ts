// The launcher (launcher/accountservice.cts, built to dist/accountservice.cjs) starts the bundle from
// the V8 code cache the build wrote: V8 takes the build's cache, and a cache from another bundle,
// one whose V8 data does not match its digest (damaged, or of the older format without one), one V8
// refuses, or anything at the cache's path that is not a regular file of bounded size (a link to
// /dev/zero, a named pipe, a directory, a huge file) is ignored with one line: the service
// still starts, answers and stops on SIGTERM. Every start says in one line whether the cache was
// used. A bundle that is empty, cut short or altered is one fatal line naming it, exit 1.

import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, assertBuilt, startServiceRaw, type LogLine } from '../helpers/service-process.js';
import { withDeadline } from '../helpers/deadline.js';
import { waitFor } from '../helpers/wait.js';
import { rssKb } from '../reliability/support.js';

const DIST = join(ROOT, 'dist');
const CACHE_NAME = `${process.version}-${process.arch}.bin`;
/** The launcher reads no more than a few times the bundle's size: far above this is no bound at all. */
const RSS_LIMIT_KB = 512 * 1024;

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Whether V8 takes the cache in dir for the bundle in dir (a fresh node, as a start would be). */
function fromCache(dir: string): string {
  const run = spawnSync(
    process.execPath,
    [
      '-e',
      `process.stdout.write(String(require(${JSON.stringify(join(dir, 'accountservice.cjs'))}).loadBundle().fromCache))`,
    ],
    // Bounded: a launcher that blocks (a named pipe opened for reading) must fail this, not hang the file.
    { encoding: 'utf8', timeout: 20_000 },
  );
  assert.equal(run.status, 0, `status ${run.status} signal ${run.signal}: ${run.stderr}`);
  return run.stdout;
}

/**
 * A copy of the built launcher and bundle; cache puts what it likes at the code cache's path,
 * bundle may change the bundle's bytes.
 */
function app({ cache, bundle }: { cache?: (file: string) => void; bundle?: (bytes: Buffer) => Buffer }): string {
  const dir = mkdtempSync(join(tmpdir(), 'accountservice-code-cache-'));
  dirs.push(dir);
  copyFileSync(join(DIST, 'accountservice.cjs'), join(dir, 'accountservice.cjs'));
  const bundleBytes = readFileSync(join(DIST, 'accountservice-bundle.cjs'));
  writeFileSync(join(dir, 'accountservice-bundle.cjs'), bundle ? bundle(bundleBytes) : bundleBytes);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'code-cache'));
  cache?.(join(dir, 'code-cache', CACHE_NAME));
  return dir;
}

const builtCache = (): Buffer => readFileSync(join(DIST, 'code-cache', CACHE_NAME));
const cacheOf = (bytes: () => Buffer) => (file: string) => writeFileSync(file, bytes());
/** The build's cache file is the bundle's SHA-256, the V8 data's SHA-256, then the data. */
const HEADER_BYTES = 64;
const sha256 = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();
/** A cache for the built bundle whose header is right for data: only V8 can judge it. */
const withHeader = (data: Buffer): Buffer => Buffer.concat([builtCache().subarray(0, 32), sha256(data), data]);
/** The build's cache with count bytes from the middle of its V8 data inverted (or one bit), header intact. */
function flipped(count: number, mask = 0xff): Buffer {
  const copy = Buffer.from(builtCache());
  const middle = HEADER_BYTES + ((copy.length - HEADER_BYTES) >> 1);
  for (let at = middle; at < middle + count; at++) copy[at]! ^= mask;
  return copy;
}

/** The launcher's one line about the cache; fails unless there is exactly one. */
function cacheLine(logs: readonly LogLine[]): LogLine {
  const lines = logs.filter((line) => line.codeCache !== undefined);
  const said = logs.map((line) => line.msg ?? line.raw);
  assert.equal(lines.length, 1, `one code cache line, in: ${JSON.stringify(said)}`);
  return lines[0]!;
}

/**
 * Starts the service from dir and waits for it to listen, bounded in time and in memory: a launcher
 * reading without bound fails at RSS_LIMIT_KB instead of taking the machine's memory.
 */
async function startWatched(dir: string) {
  const service = startServiceRaw({ main: join(dir, 'accountservice.cjs') });
  let exit: number | string | undefined;
  void service.exited.then((code) => (exit = code));
  const outcome = await waitFor(
    async (): Promise<{ url: string } | { failure: string } | undefined> => {
      if (exit !== undefined) return { failure: `exited with ${exit} before listening` };
      const kb = await rssKb(service.pid).catch(() => 0);
      if (kb > RSS_LIMIT_KB) return { failure: `RSS ${kb} kB before listening: the launcher reads without bound` };
      const url = service.url();
      return url === undefined ? undefined : { url };
    },
    { timeoutMs: 20_000, what: 'the service to listen' },
  ).catch((error: unknown) => ({ failure: String(error) }));
  if ('url' in outcome) return { service, url: outcome.url };
  await service.cleanup();
  throw new Error(`${outcome.failure}; log: ${JSON.stringify(service.logs)}; stderr: ${service.stderr()}`);
}

test('the build writes a code cache for this node that V8 takes, and a start says it used it', async () => {
  assertBuilt();
  assert.equal(fromCache(DIST), 'true');
  const { service, url } = await startWatched(DIST);
  try {
    assert.equal((await fetch(`${url}/health`, { headers: { connection: 'close' } })).status, 200);
    const line = cacheLine(service.logs);
    assert.equal(line.codeCache, 'used');
    assert.equal(line.level, 30);
    assert.equal(line.msg, `code cache used: ${join(DIST, 'code-cache', CACHE_NAME)}`);
    assert.equal(await service.stop(), 0);
  } finally {
    await service.cleanup();
  }
});

describe('a code cache that cannot be used is ignored with one line: the service starts, answers, stops', () => {
  const cases: ReadonlyArray<{ what: string; cache?: (file: string) => void; level: number; why: RegExp }> = [
    { what: 'missing', level: 30, why: /there is none for this node/ },
    {
      // The first 32 bytes name the bundle (SHA-256); a cache made from another bundle must not be used.
      what: 'made from another bundle',
      cache: cacheOf(() => Buffer.concat([Buffer.alloc(32, 7), builtCache().subarray(32)])),
      level: 40,
      why: /was made from another bundle/,
    },
    {
      what: 'that V8 refuses (not V8 data)',
      cache: cacheOf(() => withHeader(Buffer.alloc(4096, 1))),
      level: 40,
      why: /V8 refused/,
    },
    {
      // V8 does not check its data: these bytes killed the process ("Fatal error ... unreachable code", exit 133).
      what: 'with 64 bytes of its V8 data flipped (header intact)',
      cache: cacheOf(() => flipped(64)),
      level: 40,
      why: /is damaged or of an older format \(its V8 data does not match the digest before it\)/,
    },
    {
      // Used as it was, silently.
      what: 'with one bit of its V8 data flipped (header intact)',
      cache: cacheOf(() => flipped(1, 0x01)),
      level: 40,
      why: /is damaged or of an older format/,
    },
    {
      // Before the data's digest: the bundle's SHA-256, then the V8 data.
      what: 'of the older format (the bundle digest, then the V8 data)',
      cache: cacheOf(() => Buffer.concat([builtCache().subarray(0, 32), builtCache().subarray(HEADER_BYTES)])),
      level: 40,
      why: /is damaged or of an older format/,
    },
    { what: 'cut short', cache: cacheOf(() => builtCache().subarray(0, 16)), level: 40, why: /too short/ },
    {
      what: 'its header only',
      cache: cacheOf(() => builtCache().subarray(0, HEADER_BYTES)),
      level: 40,
      why: /too short/,
    },
    {
      what: 'a link to /dev/zero (read, it never ends)',
      cache: (file) => symlinkSync('/dev/zero', file),
      level: 40,
      why: /is a character device, not a regular file/,
    },
    {
      what: 'a named pipe (opened for reading, it blocks until a writer comes)',
      cache: (file) => assert.equal(spawnSync('mkfifo', [file], { timeout: 10_000 }).status, 0, 'mkfifo'),
      level: 40,
      why: /is a named pipe, not a regular file/,
    },
    { what: 'a directory', cache: (file) => mkdirSync(file), level: 40, why: /is a directory, not a regular file/ },
    {
      what: 'a regular file far larger than any cache (sparse, 64 GB)',
      cache: (file) => (writeFileSync(file, ''), truncateSync(file, 64 * 1024 ** 3)),
      level: 40,
      why: /has 68719476736 bytes, more than a cache can/,
    },
  ];
  for (const { what, cache, level, why } of cases) {
    test(`${what}`, async (t) => {
      assertBuilt();
      const dir = app(cache ? { cache } : {});
      const { service, url } = await startWatched(dir);
      try {
        assert.equal((await fetch(`${url}/health`, { headers: { connection: 'close' } })).status, 200);
        const line = cacheLine(service.logs);
        assert.equal(line.codeCache, 'not used');
        assert.equal(line.level, level, JSON.stringify(line));
        assert.match(String(line.msg), /^code cache not used: /);
        assert.match(String(line.msg), why);
        assert.equal(await service.stop('SIGTERM', 10_000), 0, 'SIGTERM stops it');
        assert.equal(service.stderr(), '');
        t.diagnostic(`${String(line.msg)}; /health 200, exit 0 on SIGTERM`);
      } finally {
        await service.cleanup();
      }
    });
  }
});

describe('a damaged bundle: one fatal line naming it and how to rebuild, exit 1', () => {
  const cases: ReadonlyArray<{ what: string; bundle: (bytes: Buffer) => Buffer; problem: string }> = [
    { what: 'empty', bundle: () => Buffer.alloc(0), problem: 'empty' },
    { what: 'cut in half', bundle: (bytes) => bytes.subarray(0, bytes.length >> 1), problem: 'cut short' },
    { what: 'its last line cut off', bundle: (bytes) => bytes.subarray(0, bytes.length - 40), problem: 'cut short' },
    {
      // Still valid JavaScript: only the digest tells.
      what: 'one byte changed in a comment',
      bundle: (bytes) => {
        const copy = Buffer.from(bytes);
        const at = copy.indexOf('// ');
        copy[at + 3] = copy[at + 3] === 0x78 ? 0x79 : 0x78;
        return copy;
      },
      problem: 'altered',
    },
  ];
  for (const { what, bundle, problem } of cases) {
    test(`${what}`, async (t) => {
      assertBuilt();
      const dir = app({ bundle, cache: cacheOf(builtCache) });
      const service = startServiceRaw({ main: join(dir, 'accountservice.cjs') });
      try {
        const code = await withDeadline(service.exited, 15_000, 'the launcher to refuse the bundle and exit');
        const file = join(dir, 'accountservice-bundle.cjs');
        assert.equal(code, 1, `exit 1 (got ${code}); log: ${JSON.stringify(service.logs)} stderr: ${service.stderr()}`);
        assert.equal(service.stderr(), '', 'no stack trace, nothing on stderr');
        assert.equal(service.logs.length, 1, `one line: ${JSON.stringify(service.logs)}`);
        const [line] = service.logs;
        assert.equal(line!.level, 60);
        assert.match(String(line!.msg), new RegExp(`^the bundle ${file} is damaged \\(${problem}: `));
        assert.match(String(line!.msg), /rebuild with npm run build$/);
        t.diagnostic(`exit 1: ${String(line!.msg)}`);
      } finally {
        await service.cleanup();
      }
    });
  }
});
