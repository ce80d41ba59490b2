// createService, the composition main.ts runs: each phase can be stopped (the onPhase seam sees each
// one begin), and close() is safe in any phase and closes what the start opened.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { StoreOpenError } from '../../src/accounts/lmdb-account-store.js';
import { StartAborted, createService, type StartPhase } from '../../src/service/service.js';
import { seededAccountJson } from '../helpers/account-json.js';
import { withDeadline } from '../helpers/deadline.js';
import { waitFor } from '../helpers/wait.js';
import { FaultyStore } from '../helpers/faulty-store.js';
import { seededMemoryStore } from '../helpers/test-app.js';

const logger = pino({ level: 'silent' });

function configIn(dir: string) {
  return loadConfig({ PORT: '0', HOST: '127.0.0.1', DB_PATH: join(dir, 'accounts.mdb'), METRICS: 'off' });
}

describe('createService', () => {
  it('close() before start() resolves, and the parts say they are not opened yet', async () => {
    const service = createService(configIn(tmpdir()), { logger });
    assert.throws(() => service.app, /does not exist before start\(\)/);
    await withDeadline(service.close(), 5000, 'close before start');
  });

  it('a database that cannot be opened fails start() with StoreOpenError, and close() still resolves', async () => {
    const service = createService(configIn(join(tmpdir(), 'no-such-dir-for-accountservice')), { logger });
    await assert.rejects(service.start(), StoreOpenError);
    await withDeadline(service.close(), 5000, 'close after a failed start');
  });

  it('an aborted signal stops start() before it opens anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'accountservice-service-'));
    try {
      const service = createService(configIn(dir), { logger });
      await assert.rejects(service.start({ signal: AbortSignal.abort() }), StartAborted);
      assert.throws(() => service.store, /does not exist before start\(\)/);
      await withDeadline(service.close(), 5000, 'close after an aborted start');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const stopIn of ['seeding', 'first checks', 'building the app', 'listening'] as const) {
    it(`a stop in the phase "${stopIn}" (onPhase): start() ends, having closed the store and released its lease`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'accountservice-service-'));
      const lease = join(dir, 'accounts.mdb.lease');
      try {
        const abort = new AbortController();
        const phases: StartPhase[] = [];
        let leaseHeld = false;
        const onPhase = (phase: StartPhase): void => {
          phases.push(phase);
          if (phase !== stopIn) return;
          leaseHeld = existsSync(lease);
          abort.abort('SIGTERM');
        };
        const service = createService(configIn(dir), { logger }, { onPhase });
        await assert.rejects(service.start({ signal: abort.signal }), StartAborted);
        assert.equal(phases.at(-1), stopIn, `phases entered: ${phases.join(', ')}`);
        assert.equal(leaseHeld, true, 'the lease is held while the store is open');
        await assert.rejects(service.store.count(), /closed/, 'the stopped start closed the store');
        assert.equal(existsSync(lease), false, 'and released the lease');
        await withDeadline(service.close(), 5000, 'close after the stopped start');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('starts on a real LMDB file, listens, answers, and closes everything it opened (twice is fine)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'accountservice-service-'));
    try {
      const service = createService(configIn(dir), { logger });
      try {
        await service.start();
        const url = await service.listen();
        assert.equal(await (await fetch(`${url}/accounts/10000`)).text(), seededAccountJson(0));
        assert.equal(await (await fetch(`${url}/health`)).text(), '{"status":"UP"}');
        await withDeadline(Promise.all([service.close(), service.close()]), 5000, 'two closes');
        await assert.rejects(service.store.count(), /closed/);
      } finally {
        // Closed whatever happened above: a server left listening would keep the test process alive.
        await withDeadline(service.close(), 5000, 'close');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('close() lets a lookup already in flight finish on an open store before it closes the store', async () => {
    const store = new FaultyStore(await seededMemoryStore(100));
    const service = createService(configIn(tmpdir()), { logger }, { store });
    try {
      await service.start();
      const url = await service.listen();
      // A store that takes its time: the lookup is still waiting for it when close() begins.
      store.setMode('slow', { slowMs: 300 });
      const lookup = fetch(`${url}/accounts/10000`).then(async (response) => ({
        status: response.status,
        body: await response.text(),
      }));
      await waitFor(() => store.lookupsBegun > 0, { timeoutMs: 5000, what: 'the lookup to reach the store' });
      // As the shutdown sequence does first: not ready, so answers from now on say Connection: close.
      service.lifecycle.markShuttingDown();
      const closing = service.close();
      const answer = await withDeadline(lookup, 5000, 'the lookup in flight');
      assert.deepEqual(answer, { status: 200, body: seededAccountJson(0) }, 'answered from the open store');
      await withDeadline(closing, 5000, 'close');
      await assert.rejects(store.count(), /closed/, 'and the store is closed afterwards');
    } finally {
      await withDeadline(service.close(), 5000, 'close');
    }
  });
});
