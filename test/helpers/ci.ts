// Whether the tests run in CI, where a missing tool (a Docker engine, unshare) is a broken
// pipeline and fails, instead of a skip on a developer's machine. The runner decides the same way
// whether a file with skipped tests fails (scripts/run-tests.mjs), so both use scripts/ci.mjs.

export { isCi } from '../../scripts/ci.mjs';
