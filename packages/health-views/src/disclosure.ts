// The one gate that decides whether a request may see details: every check, exception text,
// durations, history, check names and the watch stream. Checked where the options are read, so a
// misconfiguration stops start-up instead of silently disclosing (or hiding) everything.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { DisclosureOptions } from './types.js';

/** Shorter tokens are guessable; the service should generate one (e.g. 32 random bytes, base64). */
export const MIN_TOKEN_LENGTH = 16;

export type DisclosureGate = (authorization: string | string[] | undefined) => boolean;

export function createDisclosureGate(options: DisclosureOptions = { mode: 'never' }): DisclosureGate {
  if (options === null || typeof options !== 'object') {
    throw new Error(`health-views: disclosure must be an object such as { mode: 'never' } (got ${String(options)})`);
  }
  const { mode, token } = options;
  if (mode !== 'never' && mode !== 'always' && mode !== 'token') {
    throw new Error(`health-views: disclosure.mode must be 'never', 'always' or 'token' (got ${JSON.stringify(mode)})`);
  }
  if (mode !== 'token') {
    if (token !== undefined) {
      throw new Error(
        `health-views: a disclosure token is set but disclosure.mode is '${mode}', which ignores it; ` +
          `use mode 'token' to require it, or remove the token`,
      );
    }
    return mode === 'always' ? () => true : () => false;
  }
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`health-views: disclosure.mode 'token' needs a token of at least ${MIN_TOKEN_LENGTH} characters`);
  }
  const expected = digest(token);
  return (authorization) => {
    if (typeof authorization !== 'string') return false;
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (match === null) return false;
    // Digests first: equal lengths for timingSafeEqual, and the token's length leaks nothing.
    return timingSafeEqual(digest(match[1]!), expected);
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
