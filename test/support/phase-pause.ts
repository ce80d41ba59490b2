// The pause of the test build (dist/test-support/): its command line names the start-up phase to
// pause in ("launching": the launcher, before the bundle loads; or one of the service's phases,
// as its log line names it) and for how long, so a test can send a signal there.
//
//   node dist/test-support/accountservice.cjs --pause-in="first checks" --pause-ms=3000

export interface PhasePause {
  readonly phase: string;
  readonly ms: number;
}

/** The pause the command line asks for, if any. Test code: it reads argv, production never does. */
export function phasePause(argv: readonly string[]): PhasePause | undefined {
  const value = (name: string): string | undefined =>
    argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const phase = value('pause-in');
  if (phase === undefined) return undefined;
  const ms = Number(value('pause-ms') ?? '3000');
  if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) {
    throw new Error(`test build: --pause-ms must be a whole number of ms from 0 to 60000 (got ${value('pause-ms')})`);
  }
  return { phase, ms };
}
