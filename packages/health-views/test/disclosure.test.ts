// The disclosure gate's construction errors and its token comparison.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDisclosureGate } from '../src/disclosure.js';

const TOKEN = 'a-token-of-enough-length';

describe('disclosure gate', () => {
  it('a token with a mode other than token is a construction error that says why', () => {
    assert.throws(
      () => createDisclosureGate({ mode: 'always', token: TOKEN }),
      /token is set but disclosure.mode is 'always'/,
    );
    assert.throws(() => createDisclosureGate({ mode: 'never', token: TOKEN }), /mode is 'never', which ignores it/);
  });

  it('mode token needs a token of at least 16 characters', () => {
    assert.throws(() => createDisclosureGate({ mode: 'token' }), /at least 16 characters/);
    assert.throws(() => createDisclosureGate({ mode: 'token', token: 'short' }), /at least 16 characters/);
  });

  it('an unknown mode is an error naming the accepted ones', () => {
    assert.throws(() => createDisclosureGate({ mode: 'sometimes' as 'never' }), /'never', 'always' or 'token'/);
  });

  it('mode token allows only the right Bearer token', () => {
    const gate = createDisclosureGate({ mode: 'token', token: TOKEN });
    assert.equal(gate(`Bearer ${TOKEN}`), true);
    assert.equal(gate(`bearer ${TOKEN}`), true);
    assert.equal(gate(`Bearer ${TOKEN}x`), false);
    assert.equal(gate(TOKEN), false);
    assert.equal(gate(undefined), false);
    assert.equal(gate([`Bearer ${TOKEN}`]), false);
  });

  it('mode token refuses a wrong token of the same length and every prefix of the right one', () => {
    const gate = createDisclosureGate({ mode: 'token', token: TOKEN });
    const last = TOKEN.at(-1) === 'x' ? 'y' : 'x';
    const sameLength = [`${TOKEN.slice(0, -1)}${last}`, `${last}${TOKEN.slice(1)}`, 'z'.repeat(TOKEN.length)];
    for (const token of sameLength) {
      assert.equal(token.length, TOKEN.length);
      assert.equal(gate(`Bearer ${token}`), false, `a same-length wrong token was let in: ${token}`);
    }
    for (let length = 1; length < TOKEN.length; length += 1) {
      const prefix = TOKEN.slice(0, length);
      assert.equal(gate(`Bearer ${prefix}`), false, `the prefix ${JSON.stringify(prefix)} of the token was let in`);
    }
  });

  it('never and always ignore the header; never is the default', () => {
    assert.equal(createDisclosureGate()(`Bearer ${TOKEN}`), false);
    assert.equal(createDisclosureGate({ mode: 'always' })(undefined), true);
  });
});
