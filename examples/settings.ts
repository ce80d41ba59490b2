// What both examples read from the environment, checked: a bad value is one clear line and exit 1,
// never a server that silently runs with something other than what was asked.

/** A whole number from the environment variable `name`, or `fallback` when it is unset or empty. */
export function setting(example: string, name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`${example}: ${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`);
    process.exit(1);
  }
  return value;
}
