// The targets of the bench and their verdicts: pure functions of results.json.

import { formatRatio } from './format.js';
import type { LoadFigure, StartFigure } from './measure.js';
import { isMeasured, type Missing, type Results, type TargetVerdict, type Verdict } from './results.js';
import { median, ratioOfRounds, type RoundRatio } from './stats.js';

export const TARGETS = {
  /** The service (access log, metrics, request ids on) over bare Fastify answering the same bytes. */
  accountsVsFastify: 0.7,
  /** The service over Fastify with its own default request logging (what a user would run instead). */
  accountsVsFastifyLogging: 1.5,
  /** The service's /health over raw node:http answering the same bytes. */
  healthVsRaw: 0.9,
  healthP99UnderLoadMs: 20,
  healthcheckerVsNode: 1.2,
  /** Spawn to first 200 from /health over `node -e 0`, for each node binary. */
  startVsNode: 4,
  idleRssMb: 52,
} as const;

/**
 * A server's req/s over its anchor's, round by round: in each round every server is loaded once,
 * one after the other, so a round's two figures were measured seconds apart, under much the same
 * noise. The median of the rounds' ratios is the figure; min and max show the spread.
 */
export function throughputRatio(figure: LoadFigure, anchor: LoadFigure): RoundRatio {
  return ratioOfRounds(figure.roundsRps, anchor.roundsRps);
}

/** The same, for CPU time per request (anchor's over the figure's: above 1 means cheaper). */
export function cpuRatio(figure: LoadFigure, anchor: LoadFigure): RoundRatio {
  return ratioOfRounds(anchor.roundsCpuUsPerRequest, figure.roundsCpuUsPerRequest);
}

export function shownRatio(r: RoundRatio): string {
  return r.rounds > 1 ? `${formatRatio(r.median)} (rounds ${formatRatio(r.min)}-${formatRatio(r.max)})` : formatRatio(r.median);
}

/** A start figure's ratio: the median of the pairs' ratios, with their range. */
export function startRatio(start: StartFigure): RoundRatio {
  const sorted = [...start.roundsRatio].sort((a, b) => a - b);
  return { median: median(sorted), min: sorted[0] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN, rounds: sorted.length };
}

const verdict = (pass: boolean): Verdict => (pass ? 'PASS' : 'MISS');

function startTarget(id: string, start: StartFigure | Missing, which: string): TargetVerdict {
  const name = `start to first 200 from /health vs \`node -e 0\`, ${which}`;
  const target = `<= ${TARGETS.startVsNode.toFixed(1)}x`;
  if (!isMeasured(start)) return { id, name, value: null, shown: start, target, result: 'MISSING' };
  const ratio = startRatio(start);
  return {
    id,
    name: `${name} (${start.version})`,
    value: ratio.median,
    shown: `${shownRatio(ratio)} (${start.serviceMs.medianMs.toFixed(0)} vs ${start.nodeMs.medianMs.toFixed(1)} ms)`,
    target,
    result: start.failures.length > 0 || ratio.rounds === 0 ? 'MISS' : verdict(ratio.median <= TARGETS.startVsNode),
  };
}

/** A req/s ratio against its goal (at least). */
function ratioTarget(id: string, name: string, ratio: RoundRatio, goal: number): TargetVerdict {
  return { id, name, value: ratio.median, shown: shownRatio(ratio), target: `>= ${goal.toFixed(2)}`, result: verdict(ratio.median >= goal) };
}

/** Each target with its figure and PASS/MISS; a figure that could not be measured is MISSING, with why. */
export function evaluateTargets(results: Results): TargetVerdict[] {
  const { accounts, health } = results.throughput;
  const underLoad = results.healthUnderLoad;
  const probes = results.probeCommands;
  const accountsRatio = throughputRatio(accounts.service, accounts.fastify);
  const loggingRatio = throughputRatio(accounts.service, accounts.fastifyLogging);
  const healthRatio = throughputRatio(health.service, health.raw);
  const healthchecker = isMeasured(probes.healthchecker) ? probes.healthchecker : undefined;
  const checkerRatio = healthchecker === undefined ? undefined : healthchecker.medianMs / probes.node.medianMs;
  return [
    ratioTarget('accounts-vs-fastify', 'GET /accounts/{id} req/s, service (access log, metrics, request ids on) vs bare Fastify', accountsRatio, TARGETS.accountsVsFastify),
    ratioTarget('accounts-vs-fastify-logging', 'GET /accounts/{id} req/s, service vs Fastify with its own request logging', loggingRatio, TARGETS.accountsVsFastifyLogging),
    ratioTarget('health-vs-raw', 'GET /health req/s, service vs raw node:http', healthRatio, TARGETS.healthVsRaw),
    {
      id: 'health-p99-under-load',
      name: '/health p99 while /accounts is saturated',
      value: underLoad.p99Ms,
      shown: `${underLoad.p99Ms.toFixed(1)} ms`,
      target: `< ${TARGETS.healthP99UnderLoadMs} ms`,
      result: underLoad.probes === 0 ? 'MISSING' : verdict(underLoad.p99Ms < TARGETS.healthP99UnderLoadMs),
    },
    {
      id: 'health-failures-under-load',
      name: '/health failures while /accounts is saturated',
      value: underLoad.failures,
      shown: `${underLoad.failures} of ${underLoad.probes}`,
      target: '0',
      result: underLoad.probes === 0 ? 'MISSING' : verdict(underLoad.failures === 0),
    },
    {
      id: 'healthchecker-wall-time',
      name: 'healthchecker wall time vs `node -e 0`',
      value: checkerRatio ?? null,
      // Three decimals: 1.204 misses a 1.20 target, and two would show it as 1.20.
      shown:
        healthchecker === undefined || checkerRatio === undefined
          ? JSON.stringify(probes.healthchecker)
          : `${checkerRatio.toFixed(3)} (${healthchecker.medianMs.toFixed(1)} vs ${probes.node.medianMs.toFixed(1)} ms)`,
      target: `<= ${TARGETS.healthcheckerVsNode.toFixed(2)}`,
      result:
        healthchecker === undefined || checkerRatio === undefined
          ? 'MISSING'
          : verdict(checkerRatio <= TARGETS.healthcheckerVsNode && healthchecker.failures === 0),
    },
    startTarget('start-vs-node-this', results.starts.thisNode, 'the bench\'s node'),
    startTarget('start-vs-node-second', results.starts.secondNode, 'the image\'s node'),
    {
      id: 'idle-rss',
      name: 'idle RSS after one request',
      value: results.memory.idle.rssMb,
      shown: `${results.memory.idle.rssMb.toFixed(1)} MB`,
      target: `< ${TARGETS.idleRssMb} MB`,
      result: verdict(results.memory.idle.rssMb < TARGETS.idleRssMb),
    },
  ];
}
