// The tarball's ES module consumer (`node run.mjs` in the temporary project): imports every entry
// point the installed package.json exports, then uses the package (exercise.cjs).

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { posix } from 'node:path';
import { exercise } from './exercise.cjs';

/** @type {unknown} */
const parsed = createRequire(import.meta.url)('health-views/package.json');
const manifest = /** @type {{ exports: Record<string, unknown> }} */ (parsed);
const subpaths = Object.keys(manifest.exports);
for (const subpath of subpaths) {
  const specifier = posix.join('health-views', subpath);
  /** @type {unknown} */
  const loaded = subpath.endsWith('.json')
    ? await import(specifier, { with: { type: 'json' } })
    : await import(specifier);
  assert.ok(
    typeof loaded === 'object' && loaded !== null && Object.keys(loaded).length > 0,
    `import('${specifier}') gives no exports`,
  );
}

const root = await import('health-views');
const checks = await import('health-views/checks');
await exercise(root, checks);
console.log(`esm: imported ${subpaths.join(' ')}`);
