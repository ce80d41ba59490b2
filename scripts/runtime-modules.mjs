#!/usr/bin/env node
// Copies into OUT/node_modules the packages the bundle leaves out and needs at run time (lmdb:
// a native addon) with everything they depend on, laid out as npm installed them here. The image
// takes this folder instead of all production dependencies: the rest is inside
// dist/accountservice.cjs already, and what is not in the image cannot be loaded, patched or
// flagged by a scanner there.
//
//   node scripts/runtime-modules.mjs OUT        (the Dockerfile runs it after npm run build)
//
// Each package's dependencies and the optional ones that are installed (lmdb's prebuilt addon
// for this platform) are found the way Node finds them: in the nearest node_modules upwards.

import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Found by the bundle at run time: lmdb's native addon and its dependencies' (see scripts/bundle.mjs). */
export const RUNTIME_PACKAGES = ['lmdb'];

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The folder of package `name` as seen from `from` (a package folder or the root), or undefined.
 * @param {string} name
 * @param {string} from
 * @returns {string | undefined}
 */
function findPackage(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === ROOT || dirname(dir) === dir) return undefined;
  }
}

/**
 * Every package folder the named packages need, themselves included.
 * @param {string[]} names
 * @returns {string[]}
 */
export function closure(names = RUNTIME_PACKAGES) {
  /** @type {Set<string>} */
  const found = new Set();
  const queue = names.map((name) => {
    const dir = findPackage(name, ROOT);
    if (dir === undefined) throw new Error(`${name} is not installed: run npm ci first`);
    return dir;
  });
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    if (found.has(dir)) continue;
    found.add(dir);
    /** @type {unknown} */
    const parsed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const manifest =
      /** @type {{ name: string, dependencies?: Record<string, string>, optionalDependencies?: Record<string, string> }} */ (
        parsed
      );
    /** @type {Array<[Record<string, string> | undefined, boolean]>} */
    const fields = [
      [manifest.dependencies, false],
      [manifest.optionalDependencies, true],
    ];
    for (const [dependencies, optional] of fields) {
      for (const name of Object.keys(dependencies ?? {})) {
        const dep = findPackage(name, dir);
        if (dep !== undefined) queue.push(dep);
        else if (!optional) throw new Error(`${manifest.name} needs ${name}, which is not installed`);
      }
    }
  }
  return [...found].sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (out === undefined) {
    process.stderr.write('usage: node scripts/runtime-modules.mjs OUT\n');
    process.exit(2);
  }
  if (existsSync(out) && !statSync(out).isDirectory()) {
    process.stderr.write(`runtime-modules: ${out} exists and is not a directory\n`);
    process.exit(2);
  }
  const packages = closure();
  for (const dir of packages) {
    const target = join(resolve(out), relative(ROOT, dir));
    mkdirSync(dirname(target), { recursive: true });
    // A package's own nested node_modules come along: they are its dependencies.
    cpSync(dir, target, { recursive: true });
  }
  process.stdout.write(`${packages.map((dir) => relative(ROOT, dir)).join('\n')}\n`);
}
