// An AccountStore around a real one that a test can switch, while the service runs, to fail,
// to be slow, to hang, or to throw an unexpected internal error. seed() and close() always pass through.

import {
  StoreUnavailableError,
  type AccountStore,
  type SeedOptions,
  type SeedResult,
} from '../../src/accounts/account-store.js';
import type { AccountSeed } from '../../src/accounts/seed.js';

export type FaultMode =
  /** Every call goes straight to the real store. */
  | 'ok'
  /** Reads reject as an unreadable database does (StoreUnavailableError, with the I/O cause). */
  | 'fail'
  /** Reads wait slowMs, then go to the real store. */
  | 'slow'
  /** Reads wait until the mode changes (as stalled I/O does until the disk comes back), then go on. */
  | 'hang'
  /** Reads reject with a plain Error whose message and stack hold internal paths: a bug, not an outage. */
  | 'internal-error';

/** The message an injected 'fail' carries, as LmdbAccountStore words an unreadable database. */
export const INJECTED_FAILURE = 'the database cannot be read: EIO: i/o error (injected by the test)';
/** An internal path put into 'internal-error' errors, so a test can check it never reaches a client. */
export const INTERNAL_PATH = '/work/secret/node_modules/lmdb/dist/index.cjs';

export class FaultyStore implements AccountStore {
  private currentMode: FaultMode = 'ok';
  private slowMs = 0;
  private readonly hung = new Set<() => void>();
  /** Read calls that met a fault (failed, delayed or held). */
  faultsInjected = 0;
  /** Account lookups begun (getAccountJson calls), whatever the mode: a test waits for one to arrive. */
  lookupsBegun = 0;

  constructor(readonly inner: AccountStore) {}

  get mode(): FaultMode {
    return this.currentMode;
  }

  /** Switches the behaviour of every read from now on; leaving 'hang' lets the held calls go on. */
  setMode(mode: FaultMode, options: { slowMs?: number } = {}): void {
    this.currentMode = mode;
    this.slowMs = options.slowMs ?? this.slowMs;
    if (mode !== 'hang') this.releaseHung();
  }

  /** Calls held by 'hang' right now. */
  get hangingCalls(): number {
    return this.hung.size;
  }

  getAccountJson(id: string): Promise<Uint8Array | undefined> {
    this.lookupsBegun++;
    return this.read(() => this.inner.getAccountJson(id));
  }

  count(): Promise<number> {
    return this.read(() => this.inner.count());
  }

  check(): Promise<void> {
    return this.read(() => this.inner.check());
  }

  seed(seed: AccountSeed, options?: SeedOptions): Promise<SeedResult> {
    return this.inner.seed(seed, options);
  }

  async close(): Promise<void> {
    this.releaseHung();
    await this.inner.close();
  }

  private async read<T>(call: () => T | Promise<T>): Promise<T> {
    switch (this.currentMode) {
      case 'ok':
        return call();
      case 'fail':
        this.faultsInjected++;
        throw new StoreUnavailableError(INJECTED_FAILURE);
      case 'internal-error': {
        this.faultsInjected++;
        const error = new Error(`EINVAL: invalid cursor state at ${INTERNAL_PATH}:1234`);
        error.stack = `${error.message}\n    at Cursor.get (${INTERNAL_PATH}:1234:7)`;
        throw error;
      }
      case 'slow':
        this.faultsInjected++;
        await new Promise((resolve) => setTimeout(resolve, this.slowMs));
        return call();
      case 'hang':
        this.faultsInjected++;
        await new Promise<void>((resolve) => this.hung.add(resolve));
        return call();
    }
  }

  private releaseHung(): void {
    for (const release of this.hung) release();
    this.hung.clear();
  }
}
