// The entry point the image and `npm start` run: starts the bundled service (accountservice-bundle.cjs
// beside this file) from a V8 code cache when the build left one for this node binary and this
// bundle. The cache holds the bytecode of every function a start and its first requests ran, so
// V8 neither parses the 1.2 MB bundle nor compiles those functions again (Node 22's own compile
// cache keeps only the top level of each file, and Node 20 has none).
//
// A cache written by another node, with other V8 flags or for another bundle is ignored: the file
// starts with the SHA-256 of the bundle it was made from, and V8 refuses data from another version
// or flag set. A missing, unreadable or refused cache only costs the time it would have saved.
// Node modules only: this file runs before the service installs its signal handlers, so it stays small.

import crypto = require('node:crypto');
import fs = require('node:fs');
import http = require('node:http');
import Module = require('node:module');
import os = require('node:os');
import path = require('node:path');
import vm = require('node:vm');

const BUNDLE = path.join(__dirname, 'accountservice-bundle.cjs');
const CACHE_DIR = path.join(__dirname, 'code-cache');
const DIGEST_BYTES = 32;

/** Where the cache of this node binary lives: V8 accepts only data made by its own version. */
function codeCacheFile(dir = CACHE_DIR): string {
  return path.join(dir, `${process.version}-${process.arch}.bin`);
}

function digestOf(source: Buffer): Buffer {
  return crypto.createHash('sha256').update(source).digest();
}

/** The V8 data in a cache file, or undefined when the file was made from another bundle (or is too short). */
function codeCacheFor(source: Buffer, file: Buffer | undefined): Buffer | undefined {
  if (file === undefined || file.length <= DIGEST_BYTES) return undefined;
  return digestOf(source).equals(file.subarray(0, DIGEST_BYTES)) ? file.subarray(DIGEST_BYTES) : undefined;
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

interface LoadedBundle {
  /** The compiled bundle: createCachedData() on it after a start is what writeCodeCache stores. */
  readonly script: vm.Script;
  /** Whether V8 took the cache (false also when there was none). */
  readonly fromCache: boolean;
  /** Runs the bundle as a CommonJS module: the service starts. */
  run(): void;
}

/** Compiles the bundle, from the cache in cacheDir when it fits. */
function loadBundle(bundle = BUNDLE, cacheDir = CACHE_DIR): LoadedBundle {
  const source = fs.readFileSync(bundle);
  const cachedData = codeCacheFor(source, readIfPresent(codeCacheFile(cacheDir)));
  // The wrapper Node gives every CommonJS module, so the bundle sees the same five names.
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${source.toString('utf8')}\n})`,
    { filename: bundle, ...(cachedData === undefined ? {} : { cachedData }) },
  );
  const fromCache = cachedData !== undefined && !script.cachedDataRejected;
  return {
    script,
    fromCache,
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = http.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    http
      .get(url, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', () => resolve(0));
  });
}

/**
 * Writes the code cache for the node binary running it, as the image build and `npm run build` do:
 * starts the service in this process (its log goes to stdout) on a temp database and a free port,
 * with the image's settings, sends it the requests a first health probe and a first client send,
 * stores the bytecode of everything that ran, then stops it with SIGTERM (the process exits).
 */
async function writeCodeCache(cacheDir = CACHE_DIR, bundle = BUNDLE): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accountservice-code-cache-'));
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  Object.assign(process.env, {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    METRICS_PORT: '0',
    DB_PATH: path.join(dataDir, 'accounts.mdb'),
    SHUTDOWN_DRAIN_DELAY_MS: '0',
  });
  const loaded = loadBundle(bundle, cacheDir);
  loaded.run();
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while ((await get(`${base}/health`)) !== 200) {
    if (Date.now() > deadline) throw new Error('writeCodeCache: the service did not answer 200 on /health within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (const route of ['/health', '/health/ready', '/accounts/10000', '/accounts/1']) await get(`${base}${route}`);
  const file = codeCacheFile(cacheDir);
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.writeFileSync(`${file}.tmp`, Buffer.concat([digestOf(fs.readFileSync(bundle)), loaded.script.createCachedData()]));
  fs.renameSync(`${file}.tmp`, file);
  process.kill(process.pid, 'SIGTERM');
}

/** The signals the service stops on (src/main.ts installs its handlers for the same four). */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const;

interface LaunchOptions {
  readonly bundle?: string;
  readonly cacheDir?: string;
  /** Runs once the stop signals are held, before the bundle loads (the test build pauses here). */
  readonly beforeLoad?: () => void;
}

/** Starts the service: loads the bundle (from its code cache when it fits) and runs it. */
function launch({ bundle = BUNDLE, cacheDir = CACHE_DIR, beforeLoad }: LaunchOptions = {}): void {
  // A stop signal is held from the launcher's first line: as PID 1 (the image) a signal with no
  // listener is dropped, and otherwise it kills the process with no log line. Everything up to the
  // service's own handlers runs synchronously, so a signal that comes meanwhile waits in libuv and
  // reaches those handlers once the event loop runs: the start then stops cleanly, as in any phase.
  const hold = (): void => {};
  for (const signal of STOP_SIGNALS) process.on(signal, hold);
  beforeLoad?.();
  loadBundle(bundle, cacheDir).run();
  for (const signal of STOP_SIGNALS) process.off(signal, hold);
}

if (require.main === module) launch();

// For the image build and npm run build (writeCodeCache), the test build (launch), the bench and the tests.
export = { codeCacheFile, codeCacheFor, launch, loadBundle, writeCodeCache };
