// The tarball's CommonJS consumer (`node run.cjs` in the temporary project): requires every entry
// point the installed package.json exports, each with the same names its ES module has, then uses
// the package (exercise.cjs), also with a health made by the CommonJS copy and answered by the ES
// module copy: a process that loads both (the dual-package hazard) shares no state between them.
'use strict';

const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const { posix } = require('node:path');
const { exercise } = require('./exercise.cjs');

/**
 * The names a module gives, sorted; none for what is not a module.
 * @param {unknown} module
 */
const names = (module) => (typeof module === 'object' && module !== null ? Object.keys(module).sort() : []);

async function main() {
  /** @type {unknown} */
  const parsed = JSON.parse(readFileSync(require.resolve('health-views/package.json'), 'utf8'));
  const subpaths = Object.keys(/** @type {{ exports: Record<string, unknown> }} */ (parsed).exports);
  for (const subpath of subpaths) {
    const specifier = posix.join('health-views', subpath);
    /** @type {unknown} */
    const required = require(specifier);
    assert.notDeepEqual(names(required), [], `require('${specifier}') gives nothing`);
    if (subpath.endsWith('.json')) continue;
    /** @type {unknown} */
    const imported = await import(specifier);
    assert.deepEqual(names(required), names(imported), `require('${specifier}') and import('${specifier}') differ`);
  }

  const root = require('health-views');
  const checks = require('health-views/checks');
  await exercise(root, checks);
  const esm = await import('health-views');
  assert.notEqual(esm.withHealth, root.withHealth, 'require and import load two copies (two builds)');
  await exercise({ ...esm, createHealth: root.createHealth }, checks);
  console.log(`cjs: required ${subpaths.join(' ')}`);
}

main().catch((/** @type {unknown} */ error) => {
  console.error(error);
  process.exitCode = 1;
});
