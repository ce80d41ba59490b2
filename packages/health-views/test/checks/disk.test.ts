// diskCheck against the real file system: floors set relative to what statfs reports for a temp
// directory (so the test holds on any disk, tmpfs included), and a path that does not exist.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskCheck } from '../../src/checks/disk.js';
import { firstReport } from '../helpers/first-report.js';

describe('diskCheck', () => {
  let dir: string;
  let free: number;
  let fraction: number;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'health-views-disk-'));
    const stats = statfsSync(dir);
    free = stats.bavail * stats.bsize;
    fraction = stats.bavail / stats.blocks;
    assert.ok(
      free > 0 && fraction > 0 && fraction < 1,
      `statfs of ${dir}: ${free} bytes free, ${fraction} of the total`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is UP with floors below what is free', async () => {
    const report = await firstReport(
      diskCheck({ path: dir, minFreeBytes: Math.floor(free / 2), minFreeFraction: fraction / 2 }),
    );
    assert.equal(report.status, 'UP', JSON.stringify(report));
  });

  it('is DOWN under a byte floor above what is free, naming the free space and the floor', async () => {
    const report = await firstReport(diskCheck({ path: dir, minFreeBytes: free * 2 }));
    assert.equal(report.status, 'DOWN');
    const pattern = new RegExp(
      `^free space of ${dir} is [\\d.]+ \\w?i?B \\([\\d.]+% of [\\d.]+ \\w?i?B\\), below minFreeBytes [\\d.]+ \\w?i?B$`,
    );
    assert.match(report.cause ?? '', pattern);
    assert.equal(report.publicCause, 'free disk space is below its limit', 'the public cause names no path');
  });

  it('is DOWN under a fraction floor above what is free, naming the share and the floor', async () => {
    const floor = Math.min(1, fraction * 2);
    const report = await firstReport(diskCheck({ name: 'data', path: dir, minFreeFraction: floor }));
    assert.equal(report.status, 'DOWN');
    assert.match(report.cause ?? '', /\(([\d.]+)% of .*\), below minFreeFraction ([\d.]+)%$/);
    const [, share, shown] = /\(([\d.]+)% of .*\), below minFreeFraction ([\d.]+)%$/.exec(report.cause!)!;
    assert.ok(
      Math.abs(Number(share) - fraction * 100) < 1,
      `reported ${share}%, statfs says ${(fraction * 100).toFixed(1)}%`,
    );
    assert.equal(Number(shown), Number((floor * 100).toFixed(1)));
  });

  it('is DOWN for a path that does not exist, saying so', async () => {
    const missing = join(dir, 'not-here');
    const report = await firstReport(diskCheck({ path: missing, minFreeBytes: 1 }));
    assert.equal(report.status, 'DOWN');
    assert.match(
      report.cause ?? '',
      new RegExp(`^cannot read the free space of ${missing}: ENOENT: no such file or directory`),
    );
  });

  it('refuses bad options at construction, naming the option', () => {
    assert.throws(() => diskCheck({ path: dir }), /diskCheck\(\): give minFreeBytes or minFreeFraction/);
    assert.throws(() => diskCheck({ path: '', minFreeBytes: 1 }), /path must be a non-empty string/);
    assert.throws(
      () => diskCheck({ path: dir, minFreeFraction: 1.5 }),
      /minFreeFraction must be a number above 0 to 1 \(got 1.5\)/,
    );
    assert.throws(() => diskCheck({ path: dir, minFreeBytes: -1 }), /minFreeBytes must be a whole number from 1/);
    assert.throws(() => diskCheck({ path: dir, minFreePercent: 10 } as never), /unknown option "minFreePercent"/);
  });
});
