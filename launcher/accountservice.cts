// The entry point the image and `npm start` run, with one job: loading the bundled service
// (accountservice-bundle.cjs beside this file), from a V8 code cache when the build left one for
// this node binary and this bundle. The cache holds the bytecode of every function a start and its
// first requests ran, so V8 neither parses the bundle nor compiles those functions again (Node 22's
// own compile cache keeps only the top level of each file, and Node 20 has none). The build writes
// the cache (scripts/write-code-cache.mjs), with this file's loadBundle.
//
// The bundle ends with the digest the build wrote: one that does not match (empty, cut short,
// altered) is one fatal line, exit 1. A cache is used only when it is a regular file of bounded
// size that starts with that digest, then the digest of the V8 data after it (V8 checks only its
// version and flags: damaged data killed the process), and that V8 accepts; anything else costs
// only the time it would have saved. Each start says in one line whether it was used, and if not
// why. Node modules only, and the list of stop signals it shares with the service (bundled in
// by the build): this file runs before the service installs its signal handlers, so it stays small.

import crypto = require('node:crypto');
import fs = require('node:fs');
import Module = require('node:module');
import path = require('node:path');
import vm = require('node:vm');
import stopSignals = require('../src/process/stop-signals.js');

const BUNDLE = path.join(__dirname, 'accountservice-bundle.cjs');
const CACHE_DIR = path.join(__dirname, 'code-cache');
const DIGEST_BYTES = 32;
/** A cache file starts with two SHA-256 digests: of the bundle it was made from, and of its V8 data. */
const HEADER_BYTES = 2 * DIGEST_BYTES;
/**
 * The bundle's last line, written by scripts/bundle.mjs: the SHA-256 of every byte before it. An
 * empty, truncated or altered bundle fails this check instead of running (an empty one ran as
 * nothing and exited 0; a truncated one died with V8's stack trace of the syntax error).
 */
const INTEGRITY_PREFIX = '\n//# accountservice-bundle-sha256=';
const INTEGRITY_LINE_BYTES = INTEGRITY_PREFIX.length + 2 * DIGEST_BYTES + 1;
/** No V8 code cache of the bundle comes near this many times its size: a larger file is not one. */
const MAX_CACHE_TO_BUNDLE_RATIO = 4;

/** The bundle cannot run: the message names it and says how to get a good one. */
class BundleError extends Error {
  override readonly name = 'BundleError';
}

/** Where the cache of this node binary lives: V8 accepts only data made by its own version. */
function codeCacheFile(dir = CACHE_DIR): string {
  return path.join(dir, `${process.version}-${process.arch}.bin`);
}

/** The bundle's source, checked against its integrity line; its digest keys the code cache. */
function readBundle(bundle: string): { source: string; digest: Buffer; size: number } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(bundle);
  } catch (error) {
    throw new BundleError(`the bundle ${bundle} cannot be read (${errorText(error)}): rebuild with npm run build`);
  }
  const body = bytes.subarray(0, Math.max(0, bytes.length - INTEGRITY_LINE_BYTES));
  const line = bytes.subarray(body.length).toString('latin1');
  const digest = crypto.createHash('sha256').update(body).digest();
  if (line !== `${INTEGRITY_PREFIX}${digest.toString('hex')}\n`) {
    const what = bytes.length === 0 ? 'empty' : line.startsWith(INTEGRITY_PREFIX) ? 'altered' : 'cut short';
    throw new BundleError(
      `the bundle ${bundle} is damaged (${what}: its ${bytes.length} bytes do not end with the digest the build ` +
        'wrote): rebuild with npm run build',
    );
  }
  return { source: body.toString('utf8'), digest, size: bytes.length };
}

/** Whether a start uses the code cache, and if not why: one log line either way. */
interface CacheUse {
  readonly used: boolean;
  readonly level: 'info' | 'warn';
  readonly why: string;
}

/** What a code cache file holds for the bundle with this digest: the header codeCacheFor checks, then the data. */
function codeCacheBytes(digest: Buffer, data: Buffer): Buffer {
  return Buffer.concat([digest, crypto.createHash('sha256').update(data).digest(), data]);
}

/**
 * The V8 data in the cache file for the bundle with this digest, or why there is none to use. The
 * file is the bundle's SHA-256, the SHA-256 of the V8 data, then the data (scripts/write-code-cache.mjs):
 * V8 checks no more of the data than its version and flags, and dies on damaged data ("Fatal error
 * ... unreachable code", exit 133, no log line) or runs it, so nothing reaches V8 unverified.
 */
function codeCacheFor(file: string, digest: Buffer, maxBytes: number): Buffer | CacheUse {
  const read = readCodeCache(file, maxBytes);
  if (!Buffer.isBuffer(read)) return read;
  if (read.length <= HEADER_BYTES) return { used: false, level: 'warn', why: `${file} is too short to be a cache` };
  if (!digest.equals(read.subarray(0, DIGEST_BYTES))) {
    return { used: false, level: 'warn', why: `${file} was made from another bundle` };
  }
  const data = read.subarray(HEADER_BYTES);
  if (!crypto.createHash('sha256').update(data).digest().equals(read.subarray(DIGEST_BYTES, HEADER_BYTES))) {
    const why = `${file} is damaged or of an older format (its V8 data does not match the digest before it)`;
    return { used: false, level: 'warn', why };
  }
  return data;
}

/**
 * The cache file's bytes if it is a regular file of at most maxBytes. Opened without blocking (a
 * named pipe would hold open() until a writer came) and judged by fstat of what was opened (a link
 * to /dev/zero would be read forever); read no further than the size fstat gave.
 */
function readCodeCache(file: string, maxBytes: number): Buffer | CacheUse {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { used: false, level: 'info', why: `there is none for this node (${file})` };
    }
    return { used: false, level: 'warn', why: `${file} cannot be opened (${errorText(error)})` };
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return { used: false, level: 'warn', why: `${file} is ${kindOf(stat)}, not a regular file` };
    if (stat.size > maxBytes) {
      return { used: false, level: 'warn', why: `${file} has ${stat.size} bytes, more than a cache can (${maxBytes})` };
    }
    const bytes = Buffer.allocUnsafe(stat.size);
    let length = 0;
    while (length < bytes.length) {
      const n = fs.readSync(fd, bytes, length, bytes.length - length, length);
      if (n === 0) break; // shorter now than fstat said: what was read is judged as it is
      length += n;
    }
    return bytes.subarray(0, length);
  } catch (error) {
    return { used: false, level: 'warn', why: `${file} cannot be read (${errorText(error)})` };
  } finally {
    fs.closeSync(fd);
  }
}

function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'a socket';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface LoadedBundle {
  /** The compiled bundle: createCachedData() on it after a start is what the build's code cache stores. */
  readonly script: vm.Script;
  /** The SHA-256 of the bundle, which a code cache made from it starts with (codeCacheBytes). */
  readonly digest: Buffer;
  /** Whether V8 took the cache (false also when there was none). */
  readonly fromCache: boolean;
  /** Whether the cache was used, and if not why. */
  readonly cache: CacheUse;
  /** Runs the bundle as a CommonJS module: the service starts. */
  run(): void;
}

/** Compiles the bundle, from the cache in cacheDir when it fits. Throws BundleError for a damaged bundle. */
function loadBundle(bundle = BUNDLE, cacheDir = CACHE_DIR): LoadedBundle {
  const { source, digest, size } = readBundle(bundle);
  const file = codeCacheFile(cacheDir);
  const cached = codeCacheFor(file, digest, MAX_CACHE_TO_BUNDLE_RATIO * size);
  const cachedData = Buffer.isBuffer(cached) ? cached : undefined;
  // The wrapper Node gives every CommonJS module, so the bundle sees the same five names.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const fromCache = cachedData !== undefined && !script.cachedDataRejected;
  let cache: CacheUse;
  if (!Buffer.isBuffer(cached)) cache = cached;
  else if (fromCache) cache = { used: true, level: 'info', why: file };
  else cache = { used: false, level: 'warn', why: `V8 refused ${file} (made by another node or with other flags)` };
  return {
    script,
    digest,
    fromCache,
    cache,
    run() {
      const bundleModule = new Module(bundle, module);
      bundleModule.filename = bundle;
      const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
      const bundleRequire = Module.createRequire(bundle);
      wrapper.call(
        bundleModule.exports,
        bundleModule.exports,
        bundleRequire,
        bundleModule,
        bundle,
        path.dirname(bundle),
      );
    },
  };
}

/**
 * One line in the service's log format (pino's JSON: level, time, service, msg), written before
 * the service and its logger exist. Best effort: a start does not fail for want of a log line.
 */
function logLine(level: 'info' | 'warn' | 'fatal', msg: string, fields: Record<string, unknown> = {}): void {
  const line = { level: PINO_LEVELS[level], time: Date.now(), service: 'accountservice', ...fields, msg };
  try {
    fs.writeSync(1, `${JSON.stringify(line)}\n`);
  } catch {
    // stdout closed or full: the start goes on without the line
  }
}

const PINO_LEVELS = { info: 30, warn: 40, fatal: 60 } as const;

/**
 * Holds the stop signals from the launcher's first line until the service has its own handlers: as
 * PID 1 (the image) a signal with no listener is dropped, and otherwise it kills the process with
 * no log line. Everything up to the service's own handlers runs synchronously, so a signal that
 * comes meanwhile waits in libuv and reaches those handlers once the event loop runs: the start
 * then stops cleanly, as in any phase. Returns the function that lets go of them.
 */
function holdStopSignals(): () => void {
  const hold = (): void => {};
  for (const signal of stopSignals.STOP_SIGNALS) process.on(signal, hold);
  return () => {
    for (const signal of stopSignals.STOP_SIGNALS) process.off(signal, hold);
  };
}

/**
 * Loads the bundle (from its code cache when it fits), says in one line whether the cache was
 * used, and runs it: the service starts. A damaged bundle is one fatal line and exit 1.
 */
function startBundle(bundle = BUNDLE, cacheDir = CACHE_DIR): void {
  let loaded: LoadedBundle;
  try {
    loaded = loadBundle(bundle, cacheDir);
  } catch (error) {
    if (!(error instanceof BundleError)) throw error;
    logLine('fatal', error.message);
    process.exit(1);
  }
  const { cache } = loaded;
  const msg = cache.used
    ? `code cache used: ${cache.why}`
    : `code cache not used: ${cache.why}; the bundle is compiled instead`;
  logLine(cache.level, msg, { codeCache: cache.used ? 'used' : 'not used' });
  loaded.run();
}

/** Starts the service with the stop signals held until its own handlers are in. */
function launch(): void {
  const letGo = holdStopSignals();
  startBundle();
  letGo();
}

if (require.main === module) launch();

// For the build's code cache (loadBundle, codeCacheFile, codeCacheBytes), the test build
// (holdStopSignals, startBundle) and the tests.
export = { codeCacheBytes, codeCacheFile, holdStopSignals, loadBundle, startBundle };
