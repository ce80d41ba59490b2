#!/usr/bin/env node
// Builds what the package ships into dist/, emptied first so that a removed source leaves nothing
// behind to be packed:
//   dist/esm/  tsc's ES modules and declarations: what `import` gets;
//   dist/cjs/  the same modules as CommonJS (esbuild: a per-file syntax transform, as the sources
//              are written for isolatedModules) with a copy of the declarations, and a package.json
//              with "type": "commonjs", so that Node runs those .js files and TypeScript reads those
//              .d.ts files as CommonJS: what `require` gets, and what a TypeScript CommonJS
//              consumer is type-checked against (under node16 an ESM .d.ts is TS1479 there).
// No source maps: tsc and esbuild emit readable JavaScript line for line, and a map would point at
// sources the package does not ship.
// Last, every file package.json's exports (and main, types) names must exist: an entry point is
// added to exports alone, and this build fails naming it until its source is in src/.
//
//   node scripts/build.mjs        (npm run build; npm pack runs it first, as prepack)

import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const dist = join(here, 'dist');

/** @param {string} message @returns {never} */
function fail(message) {
  console.error(`health-views build: ${message}`);
  process.exit(1);
}

function compileEsm() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (run.status !== 0) fail(`tsc failed (exit ${run.status ?? run.signal})`);
}

async function compileCjs() {
  const result = await build({
    absWorkingDir: here,
    entryPoints: ['src/**/*.ts'],
    outbase: 'src',
    outdir: 'dist/cjs',
    format: 'cjs',
    platform: 'node',
    target: 'node20.19',
    logLevel: 'warning',
  });
  // A warning here (import.meta, say, which CommonJS does not have) is a module that would break under require.
  if (result.warnings.length > 0) fail(`esbuild warned ${result.warnings.length} time(s) for the CommonJS build`);
  cpSync(join(dist, 'esm'), join(dist, 'cjs'), { recursive: true, filter: (path) => !path.endsWith('.js') });
  writeFileSync(join(dist, 'cjs', 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
}

/**
 * @typedef {Record<string, Record<string, string> | undefined>} Conditions
 * @typedef {{ main?: string, types?: string, exports?: Record<string, string | Conditions> }} Manifest
 */

/**
 * The files that exports, main and types name, each condition in the order TypeScript and Node read
 * it: `types` first (TypeScript takes the first condition it knows), then `default`.
 * @param {Manifest} manifest
 * @returns {string[]} the problems, each naming where it is
 */
function exportProblems(manifest) {
  const problems = [];
  const file = (/** @type {string} */ where, /** @type {string | undefined} */ path) => {
    if (path === undefined || !existsSync(join(here, path))) problems.push(`${where}: ${path} was not built`);
  };
  file('main', manifest.main);
  file('types', manifest.types);
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (subpath === './package.json') continue;
    for (const condition of ['import', 'require']) {
      const where = `exports["${subpath}"].${condition}`;
      const files = typeof target === 'string' ? {} : (target[condition] ?? {});
      const keys = Object.keys(files);
      if (keys.join() !== 'types,default')
        problems.push(`${where} must be { types, default } (has: ${keys.join(', ') || 'nothing'})`);
      else for (const key of keys) file(`${where}.${key}`, files[key]);
    }
  }
  return problems;
}

rmSync(dist, { recursive: true, force: true });
compileEsm();
await compileCjs();
/** @type {unknown} */
const parsed = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const problems = exportProblems(/** @type {Manifest} */ (parsed));
if (problems.length > 0) fail(`package.json names what is not built:\n  ${problems.join('\n  ')}`);
