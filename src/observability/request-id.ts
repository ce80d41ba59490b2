// The request id every log line of a request carries: the client's X-Request-Id when it is sane,
// so one id follows a call across services; otherwise a fresh UUID.

import { randomFillSync, randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';

/** 1 to 128 characters that are safe in a log line and a header: letters, digits and . _ : - */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The id for a request with this X-Request-Id header value. Anything else than one sane value
 * (absent, empty, too long, odd characters, or sent twice) is replaced by fresh(), never cleaned
 * up: a half-trusted id is worse than a new one.
 */
export function requestIdFrom(header: string | string[] | undefined, fresh: () => string = randomUUID): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : fresh();
}

/** How many ids one random fill makes. */
const IDS_PER_FILL = 256;
const UUID_LENGTH = 36;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const DASH = 0x2d;

/**
 * Random UUIDs (version 4, as crypto.randomUUID), made IDS_PER_FILL at a time into one buffer of
 * text and handed out as flat strings. randomUUID builds each id by joining 20 pieces, and a header
 * check or write flattens the result again: on every request without an id of its own.
 */
export function createUuidSource(): () => string {
  const random = Buffer.allocUnsafe(16 * IDS_PER_FILL);
  const text = Buffer.allocUnsafe(UUID_LENGTH * IDS_PER_FILL);
  let next = IDS_PER_FILL;
  function fill(): void {
    randomFillSync(random);
    for (let id = 0; id < IDS_PER_FILL; id++) {
      const from = id * 16;
      random[from + 6] = (random[from + 6]! & 0x0f) | 0x40; // version 4
      random[from + 8] = (random[from + 8]! & 0x3f) | 0x80; // variant 10xx (RFC 9562)
      let at = id * UUID_LENGTH;
      for (let byte = 0; byte < 16; byte++) {
        if (byte === 4 || byte === 6 || byte === 8 || byte === 10) text[at++] = DASH;
        const value = random[from + byte]!;
        text[at++] = HEX[value >> 4]!;
        text[at++] = HEX[value & 0x0f]!;
      }
    }
    next = 0;
  }
  return () => {
    if (next === IDS_PER_FILL) fill();
    const at = UUID_LENGTH * next++;
    return text.toString('latin1', at, at + UUID_LENGTH);
  };
}
