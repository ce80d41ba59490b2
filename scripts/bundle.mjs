#!/usr/bin/env node
// Bundles the compiled service (dist/src/process/entry.js, from tsc) and its JavaScript dependencies into
// one CommonJS file, dist/accountservice-bundle.cjs. Node then reads and compiles one file at start
// instead of some 400 modules, each resolved through package.json lookups (the bench measures
// both: start to healthy and idle RSS). lmdb's JavaScript is in it too; its native addon stays in
// node_modules, found from lmdb's package directory (msgpackr's optional addon is left out: see
// noMsgpackrExtract). Not minified, so stack traces keep readable names and every module's code
// sits under a comment naming its file.
//
// The bundle ends with a line holding the SHA-256 of everything before it, which the launcher
// checks: an empty, cut or altered bundle is one clear line instead of a silent exit or V8's stack.
//
// Then the entry point, dist/accountservice.cjs (launcher/accountservice.cts: what `npm start` and
// the image run, with the one list of stop signals it shares with the service bundled in), and the
// V8 code cache of the bundle for the node running this script, written by one start of the service
// (scripts/write-code-cache.mjs; the image build runs it again with the image's node).
//
// Last, the test build in dist/test-support/: the same service and launcher from the entries in
// test/support/, which pause in the start-up phase named on their command line, so a test can send
// a signal there. Production code has no such switch; the test build is the one seam
// (CONTRIBUTING.md). Never in the image.
//
//   node scripts/bundle.mjs        (npm run build runs it after tsc)

import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The lmdb file the bundle stands in for, found at run time (see lmdbFromItsPackage). */
const FIND_LMDB = `(() => {
  // Where Node's require would find it (the nearest node_modules upwards), without resolving the
  // package's exports at every start; require.resolve where the layout is another.
  const { existsSync } = require('node:fs');
  const { dirname, join } = require('node:path');
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'node_modules', 'lmdb', 'dist', 'index.cjs');
    if (existsSync(file)) return file;
  }
  return require.resolve(['lmdb'][0]);
})()`;

/**
 * lmdb's JavaScript goes into the bundle (no resolving and compiling of its five packages at every
 * start; the code cache covers it), its native addon stays in node_modules: lmdb finds the addon
 * (and its compression dictionary) from its own file name, so inside the bundle __filename names
 * the file Node would load for require('lmdb') (FIND_LMDB), as if lmdb were loaded from node_modules.
 * @type {import('esbuild').Plugin}
 */
const lmdbFromItsPackage = {
  name: 'lmdb-from-its-package',
  setup(build) {
    // The CommonJS build, the one Node's require() loads (esbuild would take the ESM sources).
    build.onResolve({ filter: /^lmdb$/ }, () => ({
      path: createRequire(join(root, 'package.json')).resolve('lmdb'),
    }));
    build.onLoad({ filter: /[\\/]node_modules[\\/]lmdb[\\/]dist[\\/]index\.cjs$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      if (!source.includes('__filename')) throw new Error(`${path} no longer names __filename: review this plugin`);
      return {
        contents: `const __lmdbFilename = ${FIND_LMDB};\n${source.replaceAll('__filename', '__lmdbFilename')}`,
        loader: 'js',
      };
    });
  },
};

/**
 * Fastify's server.js requires node:http2, node:https and node:dns at load time, though it uses
 * them only for an HTTP/2 or HTTPS server or to look up a host name: loading them is most of the
 * builtins a start pays for nothing (http2 the most). Here each is loaded when first
 * used. The build fails if those lines change, so a Fastify update is reviewed here.
 * @type {import('esbuild').Plugin}
 */
const fastifyLazyBuiltins = {
  name: 'fastify-lazy-builtins',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]server\.js$/ }, async ({ path }) => {
      let source = await readFile(path, 'utf8');
      for (const name of ['https', 'http2', 'dns']) {
        const line = `const ${name} = require('node:${name}')\n`;
        if (!source.includes(line)) throw new Error(`${path} no longer has "${line.trim()}": review this plugin`);
        source = source.replace(
          line,
          `const ${name} = new Proxy({}, { get: (_, key) => require('node:${name}')[key] })\n`,
        );
      }
      return { contents: source, loader: 'js' };
    });
  },
};

/**
 * msgpackr (in the bundle with lmdb) loads msgpackr-extract, a native addon that speeds up reading
 * msgpack values, if it can: the service stores none (its databases hold bytes and JSON), so the
 * bundle gives it nothing and msgpackr keeps its own JavaScript reader, as it does where the addon
 * is not installed. Saves finding and loading a second native addon at every start.
 * @type {import('esbuild').Plugin}
 */
const noMsgpackrExtract = {
  name: 'no-msgpackr-extract',
  setup(build) {
    build.onResolve({ filter: /^msgpackr-extract$/ }, () => ({
      path: 'msgpackr-extract',
      namespace: 'no-msgpackr-extract',
    }));
    build.onLoad({ filter: /.*/, namespace: 'no-msgpackr-extract' }, () => ({
      contents: 'module.exports = undefined;',
      loader: 'js',
    }));
  },
};

/**
 * prom-client's index loads all it has at require time: the Pushgateway (https, zlib), the cluster
 * aggregator (cluster, child_process, dgram), Summary... The service uses four of its exports, so
 * the bundle takes those from their own files. Importing any other export fails the build ("No
 * matching export"): add it here.
 * @type {import('esbuild').Plugin}
 */
const promClientParts = {
  name: 'prom-client-parts',
  setup(build) {
    build.onResolve({ filter: /^prom-client$/ }, () => ({
      path: 'prom-client',
      namespace: 'prom-client-parts',
    }));
    build.onLoad({ filter: /.*/, namespace: 'prom-client-parts' }, () => ({
      contents: [
        "export { default as Registry } from 'prom-client/lib/registry';",
        "export { default as Counter } from 'prom-client/lib/counter';",
        "export { default as Gauge } from 'prom-client/lib/gauge';",
        "export { default as collectDefaultMetrics } from 'prom-client/lib/defaultMetrics';",
      ].join('\n'),
      resolveDir: root,
      loader: 'js',
    }));
  },
};

/** @type {import('esbuild').BuildOptions} */
const serviceBundle = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20.19',
  // pino-pretty: a development dependency,
  // required at run time only when LOG_PRETTY asks for it (and absent from the image). Fastify's
  // two schema compilers: never loaded (app.ts gives it none), so they need not weigh on every
  // start; should a schema be wanted one day, Fastify finds them in node_modules (add them to
  // RUNTIME_PACKAGES in runtime-modules.mjs for the image). Every other external: add it there too.
  external: ['pino-pretty', '@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler'],
  // import.meta does not exist in CommonJS: logger.ts's createRequire(import.meta.url) gets this file's URL.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: {
    js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  plugins: [lmdbFromItsPackage, noMsgpackrExtract, promClientParts, fastifyLazyBuiltins],
  legalComments: 'none',
  logLevel: 'warning',
};

/**
 * Bundles the service from entry into outfile, ending it with its integrity line (see the launcher).
 * @param {string} entry
 * @param {string} outfile
 */
async function bundleService(entry, outfile) {
  const { outputFiles } = await build({
    ...serviceBundle,
    entryPoints: [entry],
    outfile,
    write: false,
  });
  const [output] = outputFiles ?? [];
  if (output === undefined || outputFiles.length !== 1) throw new Error(`bundle: expected one output for ${entry}`);
  const body = Buffer.from(output.contents).subarray(0, output.contents.at(-1) === 0x0a ? -1 : undefined);
  const digest = createHash('sha256').update(body).digest('hex');
  mkdirSync(dirname(output.path), { recursive: true });
  writeFileSync(output.path, Buffer.concat([body, Buffer.from(`\n//# accountservice-bundle-sha256=${digest}\n`)]));
}

/**
 * Builds a launcher into one file: node: modules stay outside, anything of ours goes in.
 * @param {string} entry
 * @param {string} outfile
 */
function buildLauncher(entry, outfile) {
  return build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20.19',
    logLevel: 'warning',
  });
}

await bundleService('dist/src/process/entry.js', 'dist/accountservice-bundle.cjs');
await buildLauncher('launcher/accountservice.cts', 'dist/accountservice.cjs');

// A cache from the previous bundle would be ignored anyway (it names the bundle it was made from).
rmSync(new URL('../dist/code-cache', import.meta.url), {
  recursive: true,
  force: true,
});
const training = spawnSync(process.execPath, [join(root, 'scripts/write-code-cache.mjs'), join(root, 'dist')], {
  // The service's own log (stdout) is not the build's; its environment is the image's (the script sets it).
  cwd: root,
  env: { PATH: process.env.PATH ?? '', LIBC: process.env.LIBC ?? 'glibc' },
  stdio: ['ignore', 'ignore', 'inherit'],
  timeout: 60_000,
});
if (training.status !== 0) {
  process.stderr.write(`bundle: writing the code cache failed (exit ${training.status ?? training.signal})\n`);
  process.exit(1);
}

// The test build (see the opening comment); it has no code cache, so it also shows a start without
// one. Not where the tests are absent: the image's build context holds no test/ (.dockerignore).
rmSync(new URL('../dist/test-support', import.meta.url), { recursive: true, force: true });
if (existsSync(join(root, 'test/support'))) {
  await bundleService('test/support/paused-service.ts', 'dist/test-support/accountservice-bundle.cjs');
  await buildLauncher('test/support/paused-launcher.cts', 'dist/test-support/accountservice.cjs');
}
