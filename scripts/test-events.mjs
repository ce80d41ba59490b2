// A node:test reporter for scripts/run-tests.mjs: one line on stderr as each test begins and ends,
// which the runner reads to see which test is running and for how long, and which were skipped.
// stderr because it is synchronous on a pipe: with --test-force-exit, a reporter writing to a file
// can lose its last lines.

/** Marks these lines among whatever else the test file writes to stderr. */
export const MARK = '##test-event## ';

/**
 * A test's end says whether it was skipped or a todo (a suite too: a skipped describe runs none of
 * its tests, and Node's own summary does not count it as skipped), which the runner reports.
 * @param {AsyncIterable<{ type: string; data: { name?: string; nesting?: number; skip?: unknown; todo?: unknown } }>} source
 */
export default async function* testEvents(source) {
  for await (const { type, data } of source) {
    if (type === 'test:dequeue') yield `${MARK}${JSON.stringify({ type, name: data.name, nesting: data.nesting })}\n`;
    if (type !== 'test:complete') continue;
    const skip = data.skip !== undefined && data.skip !== false;
    const todo = data.todo !== undefined && data.todo !== false;
    yield `${MARK}${JSON.stringify({ type, name: data.name, nesting: data.nesting, skip, todo })}\n`;
  }
}
