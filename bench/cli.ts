// The one argument parser of the bench's scripts: `--name value` options and `--flag` switches,
// checked against a spec. An unknown name, a missing value or a bad one ends the script with the
// problem and its usage, exit 2: a typo must not silently measure something else.

/** A switch (`--quick`), a whole number >= 1, or text (optionally one of a list). */
export type OptionRule =
  | { readonly flag: true }
  | { readonly whole: true; readonly fallback: number }
  | { readonly fallback?: string | undefined; readonly oneOf?: readonly string[] };

export type OptionSpec = Readonly<Record<string, OptionRule>>;

type ValueOf<R> = R extends { flag: true }
  ? boolean
  : R extends { whole: true }
    ? number
    : R extends { fallback: string }
      ? string
      : string | undefined;

export type Options<S extends OptionSpec> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** Parses argv against spec; `--help` prints usage and exits 0. */
export function parseCliOptions<S extends OptionSpec>(argv: readonly string[], spec: S, usage: string): Options<S> {
  const fail = (problem: string): never => {
    process.stderr.write(`${problem}\nusage: ${usage}\n`);
    process.exit(2);
  };
  const options: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(spec)) options[name] = 'flag' in rule ? false : rule.fallback;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`usage: ${usage}\n`);
      process.exit(0);
    }
    const name = /^--(.+)$/.exec(arg)?.[1];
    const rule = name === undefined ? undefined : spec[name];
    if (name === undefined || rule === undefined) return fail(`unknown argument ${arg}`);
    if ('flag' in rule) {
      options[name] = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) return fail(`--${name} needs a value`);
    if ('whole' in rule) {
      if (!/^[1-9][0-9]*$/.test(value)) fail(`--${name} must be a whole number from 1 (got ${value})`);
      options[name] = Number(value);
    } else if (rule.oneOf !== undefined && !rule.oneOf.includes(value)) {
      fail(`--${name} must be one of ${rule.oneOf.join(', ')} (got ${value})`);
    } else {
      options[name] = value;
    }
  }
  return options as Options<S>;
}
