// The phases of a health-driven replacement, read from the engine's own timestamps (docker inspect
// of the unhealthy container and of its replacement), so the demo and the e2e test report the same
// figures however often they poll:
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
 * probe that failed that many times in a row is the one that made it unhealthy.
 */
export function healingPhases(
  switchedOffAtMs: number,
  old: Inspected,
  replacement: Inspected,
  retries: number,
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
    { phase: 'old container gone', at: since(old.State.FinishedAt) },
    { phase: 'new container created', at: since(replacement.Created) },
    { phase: 'new container healthy', at: healthy === undefined ? Number.NaN : since(healthy.End) },
  ];
}

export function formatPhases(phases: readonly Phase[]): string {
  return phases.map(({ phase, at }) => `${at.toFixed(1).padStart(6)} s  ${phase}`).join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [switchedOff, oldId, newId, retries = '3'] = process.argv.slice(2);
  if (switchedOff === undefined || oldId === undefined || newId === undefined || !/^\d+$/.test(switchedOff)) {
    process.stderr.write('usage: healing-phases.ts SWITCHED_OFF_EPOCH_MS OLD_CONTAINER NEW_CONTAINER [RETRIES]\n');
    process.exit(2);
  }
  const docker = process.env.DOCKER ?? 'docker';
  const inspect = (id: string): Inspected =>
    JSON.parse(execFileSync(docker, ['inspect', '--format', '{{json .}}', id], { encoding: 'utf8' })) as Inspected;
  console.log(formatPhases(healingPhases(Number(switchedOff), inspect(oldId), inspect(newId), Number(retries))));
}
