// mergeHeaders: what `{ ...a, ...b }` gives, without the spread (see src/headers.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeHeaders } from '../src/headers.js';

test('later sources win, as a spread would, and the result is a fresh object', () => {
  const host = { 'x-request-id': 'abc', 'content-type': 'text/plain' };
  const answer = { 'content-type': 'application/json', 'content-length': '15' };
  const merged = mergeHeaders(host, answer);
  assert.deepEqual(merged, { ...host, ...answer });
  assert.notEqual(merged, host);
  assert.notEqual(merged, answer);
});

test('undefined sources and undefined values are skipped; numbers and lists are kept', () => {
  const list = ['a=1', 'b=2'];
  const merged = mergeHeaders(undefined, { 'set-cookie': list, 'content-length': 3, gone: undefined }, undefined);
  assert.deepEqual(merged, { 'set-cookie': ['a=1', 'b=2'], 'content-length': 3 });
  assert.equal(Object.hasOwn(merged, 'gone'), false);
  // A list is copied: writing the answer never changes the pre-rendered headers it came from.
  assert.notEqual(merged['set-cookie'], list);
});

test('nothing to merge gives an empty object', () => {
  assert.deepEqual(mergeHeaders(), {});
  assert.deepEqual(mergeHeaders(undefined), {});
});
