// A built-in check run as a user runs it: in a registry, once by health.start(), bounded.

import { createHealth } from '../../src/registry.js';
import type { BuiltInCheck } from '../../src/checks/options.js';
import type { CheckReport } from '../../src/types.js';
import { withDeadline } from './deadline.js';

/** The check's report (its own policy) after health.start() ran it once; the registry is closed after. */
export async function firstReport(check: BuiltInCheck, ms = 10_000): Promise<CheckReport> {
  const health = createHealth({ checks: [check], views: [{ name: 'v', path: '/v', checks: [check.name] }] });
  try {
    await withDeadline(health.start(), ms, `the first run of ${check.name}`);
    return health.check(check.name)!;
  } finally {
    health.close();
  }
}
