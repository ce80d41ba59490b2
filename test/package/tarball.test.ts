// health-views as a user gets it: `npm pack` of the package (its prepack build runs in a copy of
// the package, so the workspace's dist/, which other tests load, is not rebuilt under them), the
// tarball installed offline into an empty project with none of the optional peers, then every entry
// point in its exports imported from ESM and CommonJS and type-checked as TypeScript under nodenext,
// node16 (ESM and CommonJS) and bundler resolution, with skipLibCheck off.
// The entry points are read from the packed package.json: a new one is covered with no edit here.
// Each step is bounded below the test runner's limit (120 s without a result): pack and install
// together, in before(), within 110 s.

import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { ROOT } from '../helpers/service-process.js';

const PACKAGE = join(ROOT, 'packages/health-views');
const CONSUMER_FILES = join(ROOT, 'test/package/consumer');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

interface Packed {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

interface Manifest {
  readonly main?: string;
  readonly types?: string;
  readonly exports: Record<string, unknown>;
  readonly peerDependencies?: Record<string, string>;
}

/** The environment without what an npm script passes down (npm_config_*, ...): the children are a user's own npm. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|INIT_CWD$)/i.test(key)));
}

/** Runs a program to its end within timeoutMs (then it is killed); rejects naming it, with its output. */
function run(file: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<string> {
  const command = `${file} ${args.join(' ')} (in ${cwd})`;
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd, env: userEnv(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout);
        const how = error.killed ? `was killed after ${timeoutMs} ms` : `exited with ${error.code ?? error.signal}`;
        reject(new Error(`${command} ${how}, expected exit 0\nstdout: ${stdout}\nstderr: ${stderr}`));
      },
    );
  });
}

/** Every string in an exports value (conditions nest), e.g. ./dist/esm/index.js. */
function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(targets);
}

let work = '';
let consumer = '';
let packed: Packed;
let manifest: Manifest;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'health-views-tarball-'));
  const copy = join(work, 'package');
  cpSync(PACKAGE, copy, {
    recursive: true,
    filter: (path) => ![join(PACKAGE, 'dist'), join(PACKAGE, 'node_modules')].includes(path),
  });
  // The build's tools (typescript, esbuild, @types/node), as the workspace installed them.
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const json = await run('npm', ['pack', '--json', '--pack-destination', work], copy, 80_000);
  [packed] = JSON.parse(json) as [Packed];

  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true })}\n`);
  // Offline: the package has no dependencies, so nothing but the tarball is needed.
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, packed.filename)], consumer, 30_000);
  manifest = JSON.parse(readFileSync(join(consumer, 'node_modules/health-views/package.json'), 'utf8')) as Manifest;
});

after(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('the health-views tarball', () => {
  it('holds the built entry points, README and LICENSE, and no tests, sources, configs or maps without sources', () => {
    const files = packed.files.map(({ path }) => path);
    for (const needed of ['package.json', 'README.md', 'LICENSE'])
      assert.ok(files.includes(needed), `${needed} is not in the tarball: ${files.join(' ')}`);
    const strays = files.filter(
      (path) => !['package.json', 'README.md', 'LICENSE'].includes(path) && !path.startsWith('dist/'),
    );
    assert.deepEqual(strays, [], 'only dist/, package.json, README.md and LICENSE are packed');
    const named = [manifest.main, manifest.types, ...targets(manifest.exports)]
      .filter((path) => path !== undefined)
      .map((path) => posix.normalize(path));
    assert.deepEqual(
      named.filter((path) => !files.includes(path)),
      [],
      'every file main, types and exports name is in the tarball',
    );
    const unmapped = files
      .filter((path) => path.endsWith('.map'))
      .flatMap((map) => {
        const { sources } = JSON.parse(readFileSync(join(consumer, 'node_modules/health-views', map), 'utf8')) as {
          sources: string[];
        };
        return sources.map((source) => posix.join(posix.dirname(map), source)).filter((path) => !files.includes(path));
      });
    assert.deepEqual(unmapped, [], 'every source a map points at is in the tarball');
  });

  it('is installed with none of its optional peers', () => {
    const resolve = createRequire(join(consumer, 'index.js')).resolve;
    const found = Object.keys(manifest.peerDependencies ?? {}).filter((peer) => {
      try {
        resolve(peer);
        return true;
      } catch {
        return false;
      }
    });
    assert.deepEqual(found, [], 'no peer can be resolved from the consumer project');
  });

  it('loads every entry point from an ES module and uses it', async () => {
    copyConsumerFiles();
    const stdout = await run(process.execPath, ['run.mjs'], consumer, 30_000);
    assert.match(stdout, new RegExp(`^esm: imported ${Object.keys(manifest.exports).join(' ')}$`, 'm'));
  });

  it('loads every entry point from CommonJS, with the names its ES module has, and uses it', async () => {
    copyConsumerFiles();
    const stdout = await run(process.execPath, ['run.cjs'], consumer, 30_000);
    assert.match(stdout, new RegExp(`^cjs: required ${Object.keys(manifest.exports).join(' ')}$`, 'm'));
  });

  it('type-checks every entry point from TypeScript: nodenext, node16 (ESM and CommonJS) and bundler', async () => {
    writeTypeScriptConsumer();
    // One tsc for the three projects (--build shares the parsed @types/node between them);
    // --verbose names the project before its errors.
    const projects = ['tsconfig.nodenext.json', 'tsconfig.node16.json', 'tsconfig.bundler.json'];
    await run(process.execPath, [TSC, '--build', '--verbose', ...projects], consumer, 100_000);
  });
});

function copyConsumerFiles(): void {
  for (const file of ['exercise.cjs', 'run.mjs', 'run.cjs'])
    copyFileSync(join(CONSUMER_FILES, file), join(consumer, file));
}

/**
 * esm/ (package type module) and cjs/ (type commonjs) each hold use.ts and an import of every entry
 * point; each resolution mode type-checks both, but bundler (ES modules only) just esm/.
 */
function writeTypeScriptConsumer(): void {
  const modules = Object.keys(manifest.exports)
    .filter((subpath) => !subpath.endsWith('.json'))
    .map((subpath) => posix.join('health-views', subpath));
  const entries = [
    ...modules.map((specifier, index) => `import * as entry${index} from '${specifier}';`),
    `export const entries = [${modules.map((_, index) => `entry${index}`).join(', ')}];`,
  ].join('\n');
  for (const [folder, type] of [
    ['esm', 'module'],
    ['cjs', 'commonjs'],
  ] as const) {
    mkdirSync(join(consumer, folder), { recursive: true });
    writeFileSync(join(consumer, folder, 'package.json'), `${JSON.stringify({ type })}\n`);
    copyFileSync(join(CONSUMER_FILES, 'use.ts'), join(consumer, folder, 'use.ts'));
    writeFileSync(join(consumer, folder, 'entries.ts'), `${entries}\n`);
  }
  // Node's types, as a TypeScript user of a Node library has them (not a peer of the package).
  mkdirSync(join(consumer, 'node_modules/@types'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules/@types/node'), join(consumer, 'node_modules/@types/node'), 'dir');
  const compilerOptions = {
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    target: 'es2023',
    lib: ['es2023'],
    types: ['node'],
  };
  const project = (module: string, moduleResolution: string, include: string[]) =>
    `${JSON.stringify({ compilerOptions: { ...compilerOptions, module, moduleResolution }, include }, null, 2)}\n`;
  writeFileSync(join(consumer, 'tsconfig.nodenext.json'), project('nodenext', 'nodenext', ['esm', 'cjs']));
  writeFileSync(join(consumer, 'tsconfig.node16.json'), project('node16', 'node16', ['esm', 'cjs']));
  writeFileSync(join(consumer, 'tsconfig.bundler.json'), project('esnext', 'bundler', ['esm']));
}
