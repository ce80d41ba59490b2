// Whether the tests run in CI, where a missing tool (a Docker engine, unshare) is a broken
// pipeline and fails, and a skipped test fails its file (scripts/run-tests.mjs), instead of a skip
// on a developer's machine. Shared by the runner (plain node) and the tests (test/helpers/ci.ts).

/**
 * CI set to anything but an empty or false-like value (0, false, no, off), as CI providers set it.
 * @param {Readonly<Record<string, string | undefined>>} env
 * @returns {boolean}
 */
export function isCi(env = process.env) {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && !['0', 'false', 'no', 'off'].includes(value);
}
