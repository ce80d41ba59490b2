// docs/configuration.md's Settings table against what loadConfig really reads: the same variables
// (found by running loadConfig on an environment that records every name asked for), each
// documented default giving the configuration an unset variable gives, and each documented range
// and list of choices the one loadConfig refuses values outside of. So the table cannot drift from
// src/config.ts: a setting added, renamed or removed, or a default or bound changed, fails here.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig, type Config, type Env } from '../../src/config.js';
import { codeSpans, readDoc, tablesIn } from '../helpers/markdown-docs.js';

const DOC = 'docs/configuration.md';
const PRODUCTION: Env = { NODE_ENV: 'production' };

interface Setting {
  readonly name: string;
  readonly line: number;
  readonly defaultCell: string;
  readonly accepts: string;
}

/** The rows of the table whose header starts `variable | default | accepts`. */
function documentedSettings(): Setting[] {
  const table = tablesIn(readDoc(DOC)).find((t) => t.header.join('|') === 'variable|default|accepts');
  assert.ok(table, `${DOC} has a table headed "variable | default | accepts"`);
  return table.rows.map(({ line, cells }) => {
    const [variable = '', defaultCell = '', accepts = ''] = cells;
    const [name] = codeSpans(variable);
    assert.ok(name !== undefined, `${DOC} line ${line}: the variable in backticks (got "${variable}")`);
    return { name, line, defaultCell, accepts };
  });
}

/** Every variable loadConfig reads from env (a Proxy records each name asked for). */
function namesRead(env: Env): Set<string> {
  const names = new Set<string>();
  const recording = new Proxy(env, {
    get(target, key) {
      if (typeof key === 'string') names.add(key);
      return Reflect.get(target, key) as unknown;
    },
  });
  try {
    loadConfig(recording);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
  }
  return names;
}

/** loadConfig's result, or its problems. */
function configOf(env: Env): Config | readonly string[] {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

/** What loadConfig says of a value no setting accepts. */
function refusal(name: string): string {
  return problemsOf({ [name]: 'not-a-choice' }).find((problem) => problem.startsWith(`${name} must be`)) ?? '';
}

function problemsOf(env: Env): readonly string[] {
  const result = configOf(env);
  return Array.isArray(result) ? result : [];
}

/** The documented default per environment: "`A`" for both, "`A`; `B` in production" for each. */
function documentedDefaults(setting: Setting): Array<{ base: Env; value: string }> {
  const [everywhere, production] = setting.defaultCell.split(';');
  const value = codeSpans(everywhere ?? '')[0];
  if (value === undefined) return [];
  const inProduction = production?.includes('in production') === true ? codeSpans(production)[0] : value;
  return [
    { base: {}, value },
    { base: PRODUCTION, value: inProduction ?? value },
  ];
}

const settings = documentedSettings();

describe(`${DOC}: the Settings table is what src/config.ts reads`, () => {
  test('lists exactly the variables loadConfig reads', () => {
    const read = new Set([
      ...namesRead({}),
      ...namesRead(PRODUCTION),
      ...namesRead({ METRICS_PORT: '9100', HEALTH_DETAILS: 'token', HEALTH_TOKEN: 'sixteen-chars-long' }),
    ]);
    const documented = new Set(settings.map((s) => s.name));
    const undocumented = [...read].filter((name) => !documented.has(name));
    const unread = [...documented].filter((name) => !read.has(name));
    assert.deepEqual(
      { undocumented, unread },
      { undocumented: [], unread: [] },
      `${DOC}'s Settings table against the variables loadConfig reads (${read.size})`,
    );
    assert.equal(settings.length, documented.size, `${DOC} lists a variable twice`);
  });

  test('each documented default configures what leaving the variable unset does', () => {
    for (const setting of settings) {
      const defaults = documentedDefaults(setting);
      let compared = 0;
      for (const { base, value } of defaults) {
        const given = configOf({ ...base, [setting.name]: value });
        // Refused in this environment (METRICS_HOST while /metrics is on PORT): judged in the other.
        if (Array.isArray(given)) continue;
        compared += 1;
        assert.deepEqual(
          given,
          loadConfig(base),
          `${DOC} line ${setting.line}: ${setting.name}=${value}, its documented default with ` +
            `${JSON.stringify(base)}, configures something else than leaving it unset`,
        );
      }
      assert.ok(defaults.length === 0 || compared > 0, `${setting.name}: its documented default is refused everywhere`);
    }
  });

  test('each documented range is the one loadConfig enforces', () => {
    const ranged = settings.filter((s) => refusal(s.name).startsWith(`${s.name} must be a whole number`));
    assert.ok(ranged.length > 0, 'loadConfig refuses no value as "a whole number": has its wording changed?');
    for (const { name, line, accepts } of ranged) {
      const [, low = '', high = ''] = /a whole number from (\d+) to (\d+)/.exec(accepts) ?? [];
      assert.ok(high !== '', `${DOC} line ${line}: ${name} states its range ("a whole number from A to B")`);
      const expected = `${name} must be a whole number from ${low} to ${high}`;
      for (const value of [Number(low), Number(high)]) {
        assert.deepEqual(
          problemsOf({ [name]: String(value) }),
          [],
          `${DOC} line ${line}: ${name}=${value}, inside the documented range, is accepted`,
        );
      }
      const outside = [Number(high) + 1, ...(Number(low) > 0 ? [Number(low) - 1] : [])];
      for (const value of outside) {
        const problems = problemsOf({ [name]: String(value) });
        assert.ok(
          problems.some((problem) => problem.startsWith(expected)),
          `${DOC} line ${line}: ${name}=${value} refused with "${expected} ..."; got ${JSON.stringify(problems)}`,
        );
      }
    }
  });

  test('each documented list of choices is the one loadConfig accepts', () => {
    const choices = settings.filter((s) => / must be (one of |\w+ or \w+ \(got)/.test(refusal(s.name)));
    assert.ok(choices.length > 0, 'loadConfig refuses no value as "one of" or "x or y": has its wording changed?');
    for (const { name, line, accepts } of choices) {
      const listed = accepts.startsWith('one of')
        ? codeSpans(accepts.split(':')[0] ?? '')
        : codeSpans(accepts).slice(0, 2);
      const expected = accepts.startsWith('one of')
        ? `${name} must be one of ${listed.join(', ')} (got "not-a-choice")`
        : `${name} must be ${listed.join(' or ')} (got "not-a-choice")`;
      const problems = problemsOf({ [name]: 'not-a-choice' });
      assert.ok(
        problems.includes(expected),
        `${DOC} line ${line}: expected "${expected}"; got ${JSON.stringify(problems)}`,
      );
    }
  });
});
