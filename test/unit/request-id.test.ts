// Request ids: the client's own when sane, else a fresh random UUID from the batched source.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUuidSource, requestIdFrom } from '../../src/observability/request-id.js';

/** RFC 9562 version 4: the version nibble 4, the variant bits 10. */
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('the batched source makes version 4 UUIDs, all different, across many fills', () => {
  const fresh = createUuidSource();
  const ids = Array.from({ length: 2000 }, fresh);
  const bad = ids.filter((id) => !UUID_V4.test(id));
  assert.deepEqual(bad, [], `not version 4 UUIDs: ${bad.slice(0, 3).join(', ')}`);
  assert.equal(new Set(ids).size, ids.length, 'every id is new');
});

test('two sources never hand out the same ids', () => {
  const [a, b] = [createUuidSource(), createUuidSource()];
  const seen = new Set(Array.from({ length: 500 }, a));
  assert.ok(Array.from({ length: 500 }, b).every((id) => !seen.has(id)));
});

test('a sane X-Request-Id is kept; anything else gets a fresh id from the given source', () => {
  const fresh = createUuidSource();
  assert.equal(requestIdFrom('abc-123:x.y_z', fresh), 'abc-123:x.y_z');
  for (const header of [undefined, '', 'a b', 'x'.repeat(129), ['a', 'b'], 'ü']) {
    assert.match(requestIdFrom(header, fresh), UUID_V4, JSON.stringify(header));
  }
});
