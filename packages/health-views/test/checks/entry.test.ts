// The health-views/checks entry point: the manifest maps it to the build of src/checks/index.ts,
// and it carries the five factories.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as checks from '../../src/checks/index.js';

describe('health-views/checks', () => {
  it('is an entry point of the package, built from src/checks/index.ts', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.deepEqual(manifest.exports['./checks'], {
      import: { types: './dist/esm/checks/index.d.ts', default: './dist/esm/checks/index.js' },
      require: { types: './dist/cjs/checks/index.d.ts', default: './dist/cjs/checks/index.js' },
    });
  });

  it('exports the five factories', () => {
    assert.deepEqual(Object.keys(checks).sort(), [
      'diskCheck',
      'eventLoopCheck',
      'httpCheck',
      'memoryCheck',
      'tcpCheck',
    ]);
    for (const factory of Object.values(checks)) assert.equal(typeof factory, 'function');
  });
});
