// SEED_ACCOUNTS against memory and disk, with the built service: at the largest accepted count the
// peak RSS plus the data file fit the shipped 256 MiB memory limit even when /data is a tmpfs (whose
// pages count against the container's memory), memory does not grow with the count, and a restart on
// the seeded file writes nothing, so the file never grows. docs/reliability.md states the relation.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService } from '../helpers/service-process.js';

const MIB = 1024 * 1024;
/** deploy/swarm/stack.yml and deploy/k8s/deployment.yaml: memory 256M / 256Mi, emptyDir 256Mi. */
const SHIPPED_LIMIT = 256 * MIB;
/** src/config.ts: the largest SEED_ACCOUNTS accepted. */
const MAX_SEED_ACCOUNTS = 1_000_000;

interface Start {
  /** VmHWM: the peak resident set, file-backed pages (the binary, the mapped database) included. */
  readonly peakRss: number;
  readonly fileSize: number;
  readonly written: number;
}

function peakRssBytes(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

async function start(dataDir: string, accounts: number): Promise<Start> {
  const service = await startService({ dataDir, env: { SEED_ACCOUNTS: String(accounts) }, timeoutMs: 180_000 });
  try {
    const peakRss = peakRssBytes(service.pid);
    const seeded = service.logs.find((line) => /^Seeded /.test(String(line.msg ?? '')));
    assert.equal(seeded?.total, accounts);
    assert.equal(await service.stop('SIGTERM'), 0);
    return { peakRss, fileSize: statSync(join(dataDir, 'accounts.mdb')).size, written: Number(seeded?.written) };
  } finally {
    await service.cleanup();
  }
}

const mb = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MB`;

describe('SEED_ACCOUNTS, memory and disk (built service)', () => {
  let scratch: string;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'accountservice-seed-size-'));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it(`${MAX_SEED_ACCOUNTS} accounts: peak RSS + data file under ${mb(SHIPPED_LIMIT)}; restarts write nothing and the file does not grow`, async (t) => {
    const smallDir = mkdtempSync(join(scratch, 'small-'));
    const small = await start(smallDir, 10_000);
    rmSync(smallDir, { recursive: true, force: true });
    const dataDir = mkdtempSync(join(scratch, 'max-'));
    const first = await start(dataDir, MAX_SEED_ACCOUNTS);
    const second = await start(dataDir, MAX_SEED_ACCOUNTS);
    const third = await start(dataDir, MAX_SEED_ACCOUNTS);
    t.diagnostic(
      `10000 accounts: peak RSS ${mb(small.peakRss)}, file ${mb(small.fileSize)}; ${MAX_SEED_ACCOUNTS}: ` +
        `first start peak RSS ${mb(first.peakRss)}, file ${mb(first.fileSize)} ` +
        `(${Math.round(first.fileSize / MAX_SEED_ACCOUNTS)} bytes an account); ` +
        `restarts: peak RSS ${mb(second.peakRss)} and ${mb(third.peakRss)}, ` +
        `written ${second.written} and ${third.written}, ` +
        `file ${mb(second.fileSize)} and ${mb(third.fileSize)}`,
    );
    assert.equal(first.written, MAX_SEED_ACCOUNTS);
    assert.equal(second.written, 0, 'a restart on the seeded file writes no account');
    assert.equal(third.written, 0);
    assert.equal(second.fileSize, first.fileSize, 'the file does not grow over restarts');
    assert.equal(third.fileSize, first.fileSize);
    // The worst case: /data on a tmpfs, where every page of the file is memory of the container.
    assert.ok(first.peakRss + first.fileSize < SHIPPED_LIMIT - 16 * MIB, 'fits the shipped limit with data on tmpfs');
    assert.ok(first.fileSize < SHIPPED_LIMIT / 2, 'fits the emptyDir sizeLimit with room for a copy aside');
    // A hundred times the accounts may not cost a hundred times the memory: batches bound it.
    const growth = first.peakRss - small.peakRss;
    assert.ok(growth < 96 * MIB, `peak RSS grew ${mb(growth)} with 100x the accounts`);
  });
});
