// The phases of a health-driven replacement, read from the engine's own timestamps (docker inspect
// of the unhealthy container and of its replacement, and the engine's event for the stop signal it
// sent), so the demo and the e2e test report the same figures however often they poll:
//
//   node --import tsx scripts/healing-phases.ts SWITCHED_OFF_EPOCH_MS OLD_CONTAINER NEW_CONTAINER [RETRIES]
//
// prints one line per phase, in seconds after the switch-off.

import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

interface HealthProbe {
  readonly Start: string;
  readonly End: string;
  readonly ExitCode: number;
}

/** The part of `docker inspect` this reads. */
export interface Inspected {
  readonly Created: string;
  readonly State: { readonly FinishedAt: string; readonly Health?: { readonly Log: readonly HealthProbe[] } };
}

export interface Phase {
  readonly phase: string;
  /** Seconds after the switch-off. */
  readonly at: number;
}

/**
 * switchedOffAtMs: when /health was switched off (epoch ms); old: the container that turned
 * unhealthy; replacement: the one that took its place; retries: the healthcheck's retries, so the
 * probe that failed that many times in a row is the one that made it unhealthy; stopSignalAtMs:
 * when the engine sent the old container its stop signal (epoch ms, from `docker events`), if known.
 *
 * Between "unhealthy" and the stop signal is Swarm's own pause (a fixed 2 s for a task with a network
 * attachment); between the stop signal and "old container gone" is the service's exit.
 */
export function healingPhases(
  switchedOffAtMs: number,
  old: Inspected,
  replacement: Inspected,
  retries: number,
  stopSignalAtMs?: number,
): Phase[] {
  const since = (timestamp: string): number => Math.round(Date.parse(timestamp) - switchedOffAtMs) / 1000;
  const failed = (old.State.Health?.Log ?? [])
    .filter((probe) => probe.ExitCode !== 0 && Date.parse(probe.Start) >= switchedOffAtMs)
    .sort((a, b) => Date.parse(a.Start) - Date.parse(b.Start));
  const unhealthy = failed[retries - 1];
  const healthy = (replacement.State.Health?.Log ?? []).find((probe) => probe.ExitCode === 0);
  return [
    { phase: 'switched off', at: 0 },
    { phase: 'unhealthy', at: unhealthy === undefined ? Number.NaN : since(unhealthy.End) },
    ...(stopSignalAtMs === undefined
      ? []
      : [{ phase: 'stop signal sent by the engine', at: Math.round(stopSignalAtMs - switchedOffAtMs) / 1000 }]),
    { phase: 'old container gone', at: since(old.State.FinishedAt) },
    { phase: 'new container created', at: since(replacement.Created) },
    { phase: 'new container healthy', at: healthy === undefined ? Number.NaN : since(healthy.End) },
  ];
}

/**
 * The first stop signal the engine sent `container` at or after sinceMs, in epoch ms, from the
 * lines of `docker events --filter event=kill --format '{{.TimeNano}} {{.Actor.Attributes.signal}}'`.
 */
export function stopSignalAt(eventLines: string, sinceMs: number): number | undefined {
  const sent = eventLines
    .split('\n')
    .map((line) => /^(\d+) (\d+)$/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null && match[2] === '15')
    .map((match) => Number(BigInt(match[1]!) / 1_000_000n))
    .filter((ms) => ms >= sinceMs)
    .sort((a, b) => a - b);
  return sent[0];
}

/** The `docker events` arguments whose output stopSignalAt reads: the window is closed, so it returns. */
export function stopSignalEventsArgs(container: string, sinceMs: number, untilMs: number): string[] {
  return [
    'events',
    '--since',
    (sinceMs / 1000).toFixed(3),
    '--until',
    (untilMs / 1000).toFixed(3),
    '--filter',
    `container=${container}`,
    '--filter',
    'event=kill',
    '--format',
    '{{.TimeNano}} {{.Actor.Attributes.signal}}',
  ];
}

export function formatPhases(phases: readonly Phase[]): string {
  return phases.map(({ phase, at }) => `${at.toFixed(1).padStart(6)} s  ${phase}`).join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [switchedOff, oldId, newId, retries = '3'] = process.argv.slice(2);
  if (
    switchedOff === undefined ||
    oldId === undefined ||
    newId === undefined ||
    !/^\d+$/.test(switchedOff) ||
    !/^[1-9]\d*$/.test(retries)
  ) {
    process.stderr.write('usage: healing-phases.ts SWITCHED_OFF_EPOCH_MS OLD_CONTAINER NEW_CONTAINER [RETRIES]\n');
    process.exit(2);
  }
  const docker = process.env.DOCKER ?? 'docker';
  /** docker's output, or its own first line of complaint and undefined. */
  const run = (args: string[]): string | undefined => {
    try {
      return execFileSync(docker, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      const said = (stderr ?? '').trim().split('\n')[0];
      process.stderr.write(`healing-phases: docker ${args[0]} failed: ${said || (error as Error).message}\n`);
      return undefined;
    }
  };
  const inspected = [oldId, newId].map((id) => run(['inspect', '--format', '{{json .}}', id]));
  if (inspected[0] === undefined || inspected[1] === undefined) process.exit(1);
  const [old, replacement] = inspected.map((json) => JSON.parse(json!) as Inspected);
  // Without the events the other phases, from docker inspect, still say most of it.
  const events = run(stopSignalEventsArgs(oldId, Number(switchedOff), Date.now()));
  const signalled = events === undefined ? undefined : stopSignalAt(events, Number(switchedOff));
  console.log(formatPhases(healingPhases(Number(switchedOff), old!, replacement!, Number(retries), signalled)));
}
