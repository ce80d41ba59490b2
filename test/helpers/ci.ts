// Whether the tests run in CI, where a missing tool (a Docker engine, unshare) is a broken
// pipeline and fails, instead of a skip on a developer's machine.

/** CI set to anything but an empty or false-like value (0, false, no, off), as CI providers set it. */
export function isCi(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && !['0', 'false', 'no', 'off'].includes(value);
}
