// The article's "make me unhealthy" switch, for demos and tests: a value, not a package global.

export interface TestabilitySwitch {
  readonly healthy: boolean;
  set(healthy: boolean): void;
  /** Called when the switch changes, at that moment (the health flag is pushed from here). */
  onChange(listener: (healthy: boolean) => void): void;
}

export function createTestabilitySwitch(): TestabilitySwitch {
  let healthy = true;
  const listeners: Array<(healthy: boolean) => void> = [];
  return {
    get healthy() {
      return healthy;
    },
    set(value) {
      if (value === healthy) return;
      healthy = value;
      for (const listener of listeners) listener(healthy);
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}

const TRUE_STATES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_STATES = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);
export const STATE_RULE = 'state must be one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False';

/** Go's strconv.ParseBool, which the original used: undefined for anything else. */
export function parseGoBool(text: string): boolean | undefined {
  if (TRUE_STATES.has(text)) return true;
  if (FALSE_STATES.has(text)) return false;
  return undefined;
}
