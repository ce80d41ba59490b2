// The signals the service stops on, in one list: the launcher holds them from its first line and
// main.ts stops on them, so a signal the launcher held is one the service acts on.

/**
 * Each of these starts the graceful shutdown (a stop during start-up ends the start instead).
 * SIGHUP and SIGQUIT too: their default would kill the process with no drain and no closed
 * database, and a service has no terminal to hang up or configuration to reload.
 */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const satisfies readonly NodeJS.Signals[];

export type StopSignal = (typeof STOP_SIGNALS)[number];
