// The error a route throws when the client is to be told something, and the one body every error
// answer of the service has ({ statusCode, error, message }), whichever listener or adapter writes it.

import { STATUS_CODES } from 'node:http';

export interface ErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
}

/** An error whose message is meant for the client. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** cause: the internal error behind it, logged for the operator, never shown to the client. */
export function httpError(statusCode: number, message: string, cause?: unknown): HttpError {
  return new HttpError(statusCode, message, cause === undefined ? undefined : { cause });
}

export function errorBody(statusCode: number, message: string): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}
