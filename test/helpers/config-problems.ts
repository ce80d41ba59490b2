// What loadConfig says about an environment, for tests of individual settings.

import { ConfigError, loadConfig, type Env } from '../../src/config.js';

/** The problems loadConfig reports for env, or none when it accepts env; any other error is rethrown. */
export function configProblems(env: Env): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
