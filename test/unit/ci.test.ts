// The CI switch that turns a missing Docker engine or unshare into a failure instead of a skip.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCi } from '../helpers/ci.js';

test('CI=true, CI=1 and other truthy values mean CI', () => {
  for (const value of ['true', '1', 'yes', 'on', 'TRUE', 'woodpecker']) assert.equal(isCi({ CI: value }), true, value);
});

test('an unset, empty or false-like CI does not', () => {
  assert.equal(isCi({}), false);
  for (const value of ['', ' ', '0', 'false', 'no', 'off', 'False']) assert.equal(isCi({ CI: value }), false, value);
});
