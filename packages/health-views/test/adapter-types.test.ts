// The adapters' published types compile in a project that has none of the frameworks installed:
// each entry point's .d.ts describes Fastify, Express and Koa by the members it uses instead of
// importing them (a consumer's build with skipLibCheck off would fail on a missing 'fastify').
// Runs on the built package (dist/): build first.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const root = join(packageDir, '..', '..');

const consumer = `
import { createHealth, withHealth } from 'health-views';
import { healthPlugin, type HealthPluginOptions } from 'health-views/fastify';
import { healthMiddleware as expressHealth } from 'health-views/express';
import { healthMiddleware as koaHealth } from 'health-views/koa';

const health = createHealth({
  checks: [{ name: 'started', kind: 'flag' }],
  views: [{ name: 'live', path: '/health/live', checks: ['started'] }],
});
const options: HealthPluginOptions = { health, hooks: { headers: (request) => ({ 'x-url': request.url }) } };
export const adapters = [withHealth(health, () => {}), healthPlugin, options, expressHealth(health), koaHealth(health)];
`;

describe('published adapter types', () => {
  it('compile with skipLibCheck off and no fastify, express or koa installed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'health-views-types-'));
    try {
      const installed = join(dir, 'node_modules', 'health-views');
      cpSync(join(packageDir, 'dist'), join(installed, 'dist'), { recursive: true });
      cpSync(join(packageDir, 'package.json'), join(installed, 'package.json'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(join(dir, 'consumer.ts'), consumer);
      const compilerOptions = {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2023',
        lib: ['es2023'],
        // Node's types only, from this repository: nothing else of its node_modules is visible.
        typeRoots: [join(root, 'node_modules', '@types')],
        types: ['node'],
      };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
      const from = createRequire(join(dir, 'consumer.ts'));
      for (const framework of ['fastify', 'express', 'koa']) {
        assert.throws(() => from.resolve(framework), `${framework} must not be found from ${dir}`);
      }
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const run = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(run.status, 0, `expected a clean compile; tsc said:\n${run.stdout}${run.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
