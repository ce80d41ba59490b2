// memoryCheck against this process's real memory: limits below its heap and RSS are DOWN, naming
// each figure and its limit; limits far above are UP.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { memoryCheck } from '../../src/checks/memory.js';
import { firstReport } from '../helpers/first-report.js';

const MiB = 1024 * 1024;

/** The figure in MiB a cause gives for a name ("heap used 52.3 MiB exceeds ..."). */
function figureMiB(cause: string | undefined, name: string): number {
  const match = new RegExp(`${name} ([\\d.]+) MiB exceeds`).exec(cause ?? '');
  assert.ok(match, `no ${name} figure in ${String(cause)}`);
  return Number(match[1]);
}

describe('memoryCheck', () => {
  it('is DOWN when the heap is above its limit, naming the heap used and the limit', async () => {
    const report = await firstReport(memoryCheck({ maxHeapUsedBytes: 1 * MiB }));
    assert.equal(report.status, 'DOWN');
    assert.match(report.cause ?? '', /^heap used [\d.]+ MiB exceeds maxHeapUsedBytes 1\.0 MiB$/);
    const heapMiB = process.memoryUsage().heapUsed / MiB;
    const reported = figureMiB(report.cause, 'heap used');
    assert.ok(
      Math.abs(reported - heapMiB) < heapMiB / 2,
      `reported ${reported} MiB, the heap holds ${heapMiB.toFixed(1)} MiB`,
    );
    assert.equal(report.publicCause, 'memory use is over its limit');
  });

  it('is DOWN when the RSS is above its limit, naming the RSS and the limit', async () => {
    const report = await firstReport(memoryCheck({ name: 'rss', maxRssBytes: 2 * MiB }));
    assert.equal(report.status, 'DOWN');
    assert.match(report.cause ?? '', /^RSS [\d.]+ MiB exceeds maxRssBytes 2\.0 MiB$/);
    const rssMiB = process.memoryUsage().rss / MiB;
    const reported = figureMiB(report.cause, 'RSS');
    assert.ok(
      Math.abs(reported - rssMiB) < rssMiB / 2,
      `reported ${reported} MiB, the RSS is ${rssMiB.toFixed(1)} MiB`,
    );
  });

  it('names both figures when both are over, and is UP under limits far above the real use', async () => {
    const both = await firstReport(memoryCheck({ maxHeapUsedBytes: MiB, maxRssBytes: MiB }));
    assert.match(
      both.cause ?? '',
      /^heap used .* exceeds maxHeapUsedBytes 1\.0 MiB; RSS .* exceeds maxRssBytes 1\.0 MiB$/,
    );
    const usage = process.memoryUsage();
    const roomy = await firstReport(memoryCheck({ maxHeapUsedBytes: usage.heapTotal * 8, maxRssBytes: usage.rss * 8 }));
    assert.equal(roomy.status, 'UP', JSON.stringify(roomy));
    const heapOnly = await firstReport(memoryCheck({ maxHeapUsedBytes: usage.heapTotal * 8 }));
    assert.equal(heapOnly.status, 'UP', 'an RSS limit not given is not applied');
  });

  it('refuses bad options at construction, naming the option', () => {
    assert.throws(() => memoryCheck({}), /memoryCheck\(\): give maxHeapUsedBytes or maxRssBytes/);
    assert.throws(() => memoryCheck({ maxRssBytes: 0 }), /maxRssBytes must be a whole number from 1 \(got 0\)/);
    assert.throws(() => memoryCheck({ maxHeapUsedBytes: 1.5 }), /maxHeapUsedBytes must be a whole number/);
    assert.throws(() => memoryCheck({ maxHeapBytes: 100 } as never), /unknown option "maxHeapBytes"/);
  });
});
