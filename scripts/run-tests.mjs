#!/usr/bin/env node
// Runs every test/**/*.test.ts and packages/*/test/**/*.test.ts (the workspaces' own tests) with
// Node's built-in test runner (TypeScript through tsx).
// Node 20's --test takes no globs, so the files are listed here. Arguments narrow the set:
//   npm test -- test/unit            only the unit tests
//   npm test -- test/e2e/swarm       files whose path contains that text
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;

/**
 * @param {string} dir
 * @returns {string[]}
 */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return walk(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const packageTests = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, 'packages', entry.name, 'test')))
  .map((entry) => join(root, 'packages', entry.name, 'test'));
const files = [join(root, 'test'), ...packageTests]
  .flatMap(walk)
  .map((file) => relative(root, file))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  // A test that hangs fails after 10 minutes instead of holding the run until CI's own limit.
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
