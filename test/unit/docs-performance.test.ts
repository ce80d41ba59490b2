// docs/performance.md's targets table against bench/REPORT.md, the last full run's report: every
// figure in the table, its date and its count of targets met are the report's. So the page cannot
// keep the figures of an older run once the report is rewritten.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readDoc, tablesIn } from '../helpers/markdown-docs.js';

const DOC = 'docs/performance.md';
const REPORT = 'bench/REPORT.md';

/** The numbers written in a text: 11,263, 0.51, 3.43 and 4.58 of "11,263 req/s, 0.51 (3.43-4.58)". */
function numbersIn(text: string): string[] {
  return text.match(/\d[\d,]*(?:\.\d+)?/g) ?? [];
}

describe(`${DOC}'s targets table`, () => {
  const doc = readDoc(DOC);
  const report = readDoc(REPORT);

  test(`every figure and goal in it is one of ${REPORT}'s numbers`, () => {
    const table = tablesIn(doc).find((t) => t.header[0] === 'Target');
    assert.ok(table !== undefined && table.rows.length > 0, `${DOC} has a table headed "Target | …"`);
    const reported = new Set(numbersIn(report));
    const missing = table.rows.flatMap(({ line, cells }) =>
      cells
        .slice(1)
        .flatMap(numbersIn)
        .filter((number) => !reported.has(number))
        .map((number) => `${DOC} line ${line}: ${number}`),
    );
    assert.deepEqual(missing, [], `figures not in ${REPORT} (the last full run): rewrite the table from it`);
  });

  test(`its run is ${REPORT}'s: the same date and count of targets met`, () => {
    const reportDate = /Produced by `npm run bench` .* on (\d{4}-\d\d-\d\d)T/.exec(report)?.[1];
    const reportMet = /\*\*Targets: (\d+) of (\d+) PASS/.exec(report);
    assert.ok(reportDate !== undefined && reportMet !== null, `${REPORT} names its date and the targets met`);
    const intro = /The last full run \(([^)]*)\)[^:]* met (\d+) of (\d+):/s.exec(doc);
    assert.ok(intro !== null, `${DOC} introduces the table with "The last full run (…) met N of M:"`);
    assert.ok(intro[1]!.includes(reportDate), `${DOC} dates the run ${reportDate}, as ${REPORT} does`);
    assert.deepEqual([intro[2], intro[3]], [reportMet[1], reportMet[2]], 'targets met, of how many');
  });
});
