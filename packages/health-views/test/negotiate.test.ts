// The Accept parser: q-values as RFC 9110 writes them (anything else ignores its range), checked
// by hand and with fast-check.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { preferredFormat } from '../src/negotiate.js';

const HEALTH = 'application/health+json';
const JSON_TYPE = 'application/json';

/** RFC 9110's qvalues, written every way the grammar allows: 0, 0., 0.5, 0.125, 1, 1., 1.000. */
const qvalue = fc.oneof(
  fc.constantFrom('0', '1', '0.', '1.', '1.0', '1.00', '1.000'),
  fc.stringMatching(/^0\.\d{1,3}$/),
);

/** Weights no client may send: each must leave its range out rather than be guessed at. */
const notQvalue = fc.oneof(
  fc.constantFrom('0x10', '0X1', '1e0', '1e-1', '2', '10', '.5', '0.1234', '1.001', '1.5', '-0', '+1', 'Infinity'),
  fc.constantFrom('NaN', '', '0b1', '0o1', '1_0', '０.5', '0.5x', 'q'),
  fc.stringMatching(/^[^,;\s]{1,8}$/).filter((text) => !/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(text)),
);

describe('Accept negotiation', () => {
  it('honours q-values: q=0 never gets health+json', () => {
    assert.equal(preferredFormat('application/health+json;q=0'), 'json');
    assert.equal(preferredFormat('application/health+json; q=0, application/json'), 'json');
    assert.equal(preferredFormat('application/json, application/health+json;q=0.5'), 'json');
  });

  it('picks health+json when named and at least as welcome as JSON', () => {
    assert.equal(preferredFormat('application/health+json'), 'health+json');
    assert.equal(preferredFormat('application/json;q=0.5, application/health+json'), 'health+json');
    assert.equal(preferredFormat('application/health+json, */*'), 'health+json');
    assert.equal(preferredFormat(undefined), 'json');
    assert.equal(preferredFormat('*/*'), 'json');
  });

  it('reads a weight only in the RFC 9110 form: q=0x10 is not 16, q=1e0 is not 1', () => {
    assert.equal(preferredFormat('application/json;q=0x10, application/health+json;q=0.5'), 'health+json');
    assert.equal(preferredFormat('application/health+json;q=0x10, application/json;q=0.9'), 'json');
    assert.equal(preferredFormat('application/health+json;q=1e0'), 'json');
    assert.equal(preferredFormat('application/health+json;Q=0.500, application/json;q=0.499'), 'health+json');
  });

  it('never throws, and answers one of the two formats, whatever the header', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.array(fc.string())), (accept) => {
        const format = preferredFormat(accept);
        assert.ok(format === 'json' || format === 'health+json', `got ${String(format)}`);
      }),
      { seed: 20260824, numRuns: 2000 },
    );
  });

  it('with valid weights: health+json exactly when its q is above 0 and at least JSON q', () => {
    fc.assert(
      fc.property(qvalue, qvalue, fc.boolean(), (healthQ, jsonQ, healthFirst) => {
        const ranges = [`${HEALTH};q=${healthQ}`, `${JSON_TYPE}; q=${jsonQ}`];
        const header = (healthFirst ? ranges : ranges.reverse()).join(', ');
        const expected = Number(healthQ) > 0 && Number(healthQ) >= Number(jsonQ) ? 'health+json' : 'json';
        assert.equal(preferredFormat(header), expected, header);
      }),
      { seed: 20260825, numRuns: 1000 },
    );
  });

  it('a range whose weight is not a qvalue is ignored, whichever type it names', () => {
    fc.assert(
      fc.property(notQvalue, qvalue, (bad, good) => {
        const refused = `${HEALTH};q=${bad}`;
        assert.equal(preferredFormat(refused), 'json', refused);
        const ignoredJson = `${JSON_TYPE};q=${bad}, ${HEALTH};q=${good}`;
        assert.equal(preferredFormat(ignoredJson), Number(good) > 0 ? 'health+json' : 'json', ignoredJson);
      }),
      { seed: 20260826, numRuns: 1000 },
    );
  });
});
