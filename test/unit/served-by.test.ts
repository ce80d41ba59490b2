// servedBy: which address an instance names, how it is spliced into the stored account JSON, and
// its setting (SERVED_BY).

import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, test } from 'node:test';
import { encodeAccount } from '../../src/accounts/account.js';
import { servedByAddress, servedBySuffix, withServedBy } from '../../src/accounts/served-by.js';
import { loadConfig } from '../../src/config.js';
import { configProblems } from '../helpers/config-problems.js';

function address(address: string, family: 'IPv4' | 'IPv6', internal: boolean): NetworkInterfaceInfo {
  const base = { address, netmask: '', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...base, family } : { ...base, family, scopeid: 0 };
}

describe('servedByAddress', () => {
  test('the first non-loopback IPv4 address, as the original', () => {
    const interfaces = {
      lo: [address('127.0.0.1', 'IPv4', true), address('::1', 'IPv6', true)],
      eth0: [address('fe80::1', 'IPv6', false), address('10.0.0.5', 'IPv4', false)],
      eth1: [address('10.0.1.7', 'IPv4', false)],
    };
    assert.equal(servedByAddress(interfaces, 'host-a'), '10.0.0.5');
  });

  test('the hostname when there is none (loopback only, or IPv6 only)', () => {
    assert.equal(servedByAddress({ lo: [address('127.0.0.1', 'IPv4', true)] }, 'host-a'), 'host-a');
    assert.equal(servedByAddress({ eth0: [address('2001:db8::5', 'IPv6', false)] }, 'host-b'), 'host-b');
    assert.equal(servedByAddress({}, 'host-c'), 'host-c');
  });
});

describe('withServedBy', () => {
  test('splices the field into the stored bytes: the JSON the original answers', () => {
    const stored = encodeAccount({ id: '10000', name: 'Person_0' });
    const answer = withServedBy(stored, servedBySuffix('10.0.0.5'));
    assert.equal(answer.toString('utf8'), '{"id":"10000","name":"Person_0","servedBy":"10.0.0.5"}');
    assert.deepEqual(JSON.parse(answer.toString('utf8')), { id: '10000', name: 'Person_0', servedBy: '10.0.0.5' });
    assert.equal(stored.toString('utf8'), '{"id":"10000","name":"Person_0"}', 'the stored bytes are untouched');
  });
});

describe('settings', () => {
  test('SERVED_BY overrides the address; unset, it is worked out at start', () => {
    assert.equal(loadConfig({}).servedBy, undefined);
    assert.equal(loadConfig({ SERVED_BY: ' accountservice-1 ' }).servedBy, 'accountservice-1');
    assert.equal(loadConfig({ SERVED_BY: 'fd00::5' }).servedBy, 'fd00::5');
  });

  test('SERVED_BY refuses what would need quoting, naming the variable', () => {
    for (const value of ['a b', 'x"y', 'a\\b', 'é', 'x'.repeat(254)]) {
      const found = configProblems({ SERVED_BY: value });
      assert.equal(found.length, 1, value);
      assert.match(found[0]!, /^SERVED_BY must be 1 to 253 letters, digits/);
    }
  });
});
