// The package's promise to its users: nothing at run time but node: modules and its own files.
// Fastify is a type only (import type), so importing health-views/fastify loads no framework.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

const src = new URL('../src/', import.meta.url);

describe('package boundary', () => {
  it('has no runtime dependencies', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    assert.equal(manifest.dependencies, undefined);
    assert.equal(manifest.peerDependenciesMeta?.fastify?.optional, true);
  });

  it('imports only node: modules and its own files at run time', () => {
    const offenders: string[] = [];
    for (const file of readdirSync(src).filter((name) => name.endsWith('.ts'))) {
      const text = readFileSync(new URL(file, src), 'utf8');
      for (const match of text.matchAll(/^(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) {
        const [, , typeOnly, specifier] = match;
        if (typeOnly || specifier!.startsWith('node:') || specifier!.startsWith('./')) continue;
        offenders.push(`${file}: ${specifier}`);
      }
    }
    assert.deepEqual(offenders, []);
  });
});
