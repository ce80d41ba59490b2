// servedBy from the built service: the machine's address by default, SERVED_BY when set, and a
// bad SERVED_BY refused at start naming the variable.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { seededAccountJson } from '../helpers/account-json.js';
import { MAIN, ROOT, startService, type ServiceProcess } from '../helpers/service-process.js';

const running: ServiceProcess[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
});

async function lookup(service: ServiceProcess, id: string): Promise<string> {
  return (await fetch(`${service.url}/accounts/${id}`, { signal: AbortSignal.timeout(5000) })).text();
}

describe('servedBy in account answers', () => {
  it('names this machine (first non-loopback IPv4, else the hostname) by default', async () => {
    const service = await startService();
    running.push(service);
    assert.equal(await lookup(service, '10042'), seededAccountJson(42));
  });

  it('is SERVED_BY when set', async () => {
    const service = await startService({ env: { SERVED_BY: 'replica-7' } });
    running.push(service);
    assert.equal(await lookup(service, '10000'), '{"id":"10000","name":"Person_0","servedBy":"replica-7"}');
    assert.equal(await lookup(service, '10099'), seededAccountJson(99, 'replica-7'));
  });

  it('refuses a SERVED_BY that would need escaping, naming the variable', () => {
    const run = spawnSync(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', SERVED_BY: 'a "quoted" name', PORT: '0', HOST: '127.0.0.1' },
      encoding: 'utf8',
      timeout: 15_000,
    });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /invalid configuration: SERVED_BY must be 1 to 253 letters, digits/);
  });
});
