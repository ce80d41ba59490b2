// A node:test reporter for scripts/run-tests.mjs: one line on stderr as each test begins and ends,
// which the runner reads to see which test is running and for how long. stderr because it is
// synchronous on a pipe: with --test-force-exit, a reporter writing to a file can lose its last lines.

/** Marks these lines among whatever else the test file writes to stderr. */
export const MARK = '##test-event## ';

/** @param {AsyncIterable<{ type: string; data: { name?: string; nesting?: number } }>} source */
export default async function* testEvents(source) {
  for await (const { type, data } of source) {
    if (type !== 'test:dequeue' && type !== 'test:complete') continue;
    yield `${MARK}${JSON.stringify({ type, name: data.name, nesting: data.nesting })}\n`;
  }
}
