// Where the time of a request goes, rung by rung, from an anchor to the service: CPU µs per request
// that each step adds (servers measured in the same rounds), against the budget a target leaves,
// and, when the rungs do not fit, the floor: what the kept features cost and what meeting the target
// would take. Pure functions of results.json; the words are computed from each run's figures.

import { formatMb } from './format.js';
import type { LoadFigure } from './measure.js';
import { isMeasured, type ProfileSummary, type Results, type StoreReadFigure } from './results.js';
import { TARGETS } from './targets.js';

type Row = string[];

interface Rung {
  readonly name: string;
  /** The rung in a few words, for the floor's sentences. */
  readonly short: string;
  readonly us: number;
}

const us = (value: number): string => value.toFixed(1);

/** A server of a ladder: each rung is what its server costs over the one before it. */
interface Step {
  readonly name: string;
  readonly short: string;
  readonly figure: LoadFigure;
}

/** The rungs from the anchor up the steps, each the difference of CPU µs per request to the step below. */
function rungsOf(anchor: LoadFigure, steps: readonly Step[]): Rung[] {
  return steps.map((step, i) => ({
    name: step.name,
    short: step.short,
    us: step.figure.cpuUsPerRequest - (i === 0 ? anchor : steps[i - 1]!.figure).cpuUsPerRequest,
  }));
}

/** The CPU µs per request a server may spend to stay at `target` of an anchor's req/s. */
function allowedUs(anchor: LoadFigure, target: number): number {
  return anchor.cpuUsPerRequest / target;
}

/** One markdown table of the rungs, the last row their sum. */
function rungTable(rungs: readonly Rung[], total: Omit<Rung, 'short'>, table: (header: readonly string[], rows: readonly Row[]) => string): string {
  return table(['Rung', 'CPU µs/req added'], [...rungs.map((rung) => [rung.name, us(rung.us)]), [total.name, us(total.us)]]);
}

/**
 * The verdict on a ladder: the rungs fit the budget, or by how much they do not, which rungs alone
 * exceed it, and what the largest rung is: what meeting the target would take.
 */
function floorOf(rungs: readonly Rung[], budget: number): string {
  const total = rungs.reduce((sum, rung) => sum + rung.us, 0);
  if (total <= budget) return `The rungs fit in the budget (${us(total)} of ${us(budget)} µs).`;
  const share = (value: number): string => `${Math.round((100 * value) / Math.max(budget, 1e-9))}%`;
  const ranked = [...rungs].sort((a, b) => b.us - a.us);
  const largest = ranked[0]!;
  const over = total - budget;
  const alone = ranked.filter((rung) => rung.us > budget);
  const budgetText = budget > 0 ? `the budget of ${us(budget)} µs` : `a budget of ${us(budget)} µs (the anchor alone is over it)`;
  return (
    `The floor: the rungs add ${us(total)} µs against ${budgetText}, ${us(over)} µs over. ` +
    (budget > 0 ? `By share of the budget: ${ranked.map((rung) => `${rung.short} ${share(rung.us)}`).join(', ')}. ` : '') +
    (alone.length > 0 ? `Alone over it: ${alone.map((rung) => rung.short).join('; ')}. ` : '') +
    (largest.us >= over
      ? `Meeting the target would take ${us(over)} µs off per request: ${Math.round((100 * over) / largest.us)}% of the largest rung (${largest.short}), or the same from several.`
      : `Meeting the target would take ${us(over)} µs off per request: more than the largest rung (${largest.short}, ${us(largest.us)} µs), so more than any one feature costs.`)
  );
}

/** What the LMDB read costs measured alone, beside the rung (a difference of two loaded servers). */
function storeReadNote(store: StoreReadFigure | string, rungUs: number): string {
  if (!isMeasured(store)) return `The store's read alone was ${store}.`;
  const ns = (value: number): string => `${Math.round(value)} ns`;
  return (
    `The store's read measured alone (bench/programs/store-read.ts: CPU per read in a loop, and the median time of a ` +
    `read alone in its turn): ${ns(store.storeTightNs)} in a tight ` +
    `loop against lmdb's own best case ${ns(store.lmdbBestCaseNs)} (getBinaryFast, no copy; the rest is the copy out of ` +
    `lmdb's shared buffer). Alone in its event-loop turn, a millisecond after the last read, lmdb's default read takes ` +
    `${ns(store.lmdbOnePerTurnNs)}: it renews the read transaction lmdb resets on a timer. The store shares one read ` +
    `transaction for a while and takes ${ns(store.storeOnePerTurnNs)} there, ${ns(store.storeTenPerTurnNs)} a read at ten ` +
    `a turn. The rung above says ${us(rungUs)} µs` +
    (rungUs * 1000 > 1.5 * store.storeOnePerTurnNs
      ? `: what it holds beyond that is cache misses on a loaded core and the noise of subtracting two servers loaded seconds apart.`
      : ': the same, within the noise of subtracting two servers loaded seconds apart.')
  );
}

/** GET /accounts/{id}: from bare Fastify to the service as shipped, against both /accounts targets. */
export function accountsLadder(results: Results, table: (header: readonly string[], rows: readonly Row[]) => string): string {
  const { fastify, fastifyLmdb, serviceMinimal, serviceNoAccessLog, service, fastifyLogging } = results.throughput.accounts;
  const rungs = rungsOf(fastify, [
    { name: 'the LMDB read (bare Fastify + LMDB read)', short: 'the LMDB read', figure: fastifyLmdb },
    {
      name:
        'the rest of the service with ACCESS_LOG=off METRICS=off: request ids and their header, nosniff, the ' +
        'onRequest hook, the health interceptor passing the request on, the connection guard and socket timeouts, the id check, servedBy',
      short: 'request ids, hooks, guard and timeouts',
      figure: serviceMinimal,
    },
    { name: 'metrics (ACCESS_LOG=off)', short: 'metrics', figure: serviceNoAccessLog },
    { name: 'the access log line (the service as shipped)', short: 'the access line', figure: service },
  ]);
  const lmdb = rungs[0]!.us;
  const total = { name: 'all of it: the service over bare Fastify', us: service.cpuUsPerRequest - fastify.cpuUsPerRequest };
  const budget = allowedUs(fastify, TARGETS.accountsVsFastify) - fastify.cpuUsPerRequest;
  const loggingAllowed = allowedUs(fastifyLogging, TARGETS.accountsVsFastifyLogging);
  const loggingBudget = loggingAllowed - fastify.cpuUsPerRequest;
  return `What the service adds to bare Fastify on GET /accounts/{id}, rung by rung (differences of CPU µs per
request between the rows above; each rung is a separate server, so a small negative figure is noise).
The target (>= ${TARGETS.accountsVsFastify.toFixed(2)} of bare Fastify) leaves ${us(budget)} µs per request for all of it
(bare Fastify's ${us(fastify.cpuUsPerRequest)} µs / ${TARGETS.accountsVsFastify.toFixed(2)} - ${us(fastify.cpuUsPerRequest)} µs).

${rungTable(rungs, total, table)}

${floorOf(rungs, budget)}

Against Fastify with its own request logging (${us(fastifyLogging.cpuUsPerRequest)} µs per request: two pino lines, written
synchronously), >= ${TARGETS.accountsVsFastifyLogging.toFixed(2)} leaves the service ${us(loggingAllowed)} µs per request, ${us(loggingBudget)} µs over bare Fastify.
${floorOf(rungs, loggingBudget)}

${storeReadNote(results.storeRead, lmdb)}`;
}

/** The share of a profile's busy time that is Node's own http/net code and syscalls, when profiled. */
function nodeShare(profile: ProfileSummary | undefined): string {
  if (profile === undefined) return '';
  const own = profile.byPackage
    .filter((entry) => entry.name.startsWith('node:') || entry.name.startsWith('(native'))
    .reduce((sum, entry) => sum + entry.percent, 0);
  return ` In the CPU profile below, Node's own http, net and stream code and the syscalls (writev) take ${own.toFixed(0)}% of the service's busy time on GET /health: work raw node:http does too.`;
}

/** GET /health: from raw node:http to the service, against the /health target. */
export function healthLadder(results: Results, table: (header: readonly string[], rows: readonly Row[]) => string): string {
  const { raw, healthViews, serviceMinimal, service } = results.throughput.health;
  const rungs = rungsOf(raw, [
    { name: "health-views' interceptor and its pre-rendered answer (node:http + health-views)", short: 'health-views', figure: healthViews },
    {
      name:
        'the service with METRICS=off: the request id and nosniff headers (the hook and the header merge), the ' +
        'connection guard, socket timeouts, the answered-request call (probes are logged at debug: no line at info)',
      short: 'request ids, headers, guard and timeouts',
      figure: serviceMinimal,
    },
    { name: 'metrics: the request counted in the histogram', short: 'metrics', figure: service },
  ]);
  const total = { name: 'all of it: the service over raw node:http', us: service.cpuUsPerRequest - raw.cpuUsPerRequest };
  const budget = allowedUs(raw, TARGETS.healthVsRaw) - raw.cpuUsPerRequest;
  return `What the service adds to raw node:http on GET /health, rung by rung (as above). The target (>= ${TARGETS.healthVsRaw.toFixed(2)}
of raw node:http) leaves ${us(budget)} µs per probe for all of it (raw node:http's ${us(raw.cpuUsPerRequest)} µs / ${TARGETS.healthVsRaw.toFixed(2)} - ${us(raw.cpuUsPerRequest)} µs).

${rungTable(rungs, total, table)}

${floorOf(rungs, budget)}${nodeShare(results.profile?.health)}`;
}

/** Idle RSS against a bare node:http server's: what the service adds, and what the target leaves. */
export function memoryFloor(results: Results): string {
  const { idle, bareNodeIdle } = results.memory;
  if (!isMeasured(bareNodeIdle)) return `The floor under the idle RSS was ${bareNodeIdle}.`;
  const left = TARGETS.idleRssMb - bareNodeIdle.rssMb;
  const added = idle.rssMb - bareNodeIdle.rssMb;
  const verdict =
    idle.rssMb < TARGETS.idleRssMb
      ? 'It fits.'
      : `Meeting it would take ${formatMb(idle.rssMb - TARGETS.idleRssMb)} MB off: ${Math.round((100 * (idle.rssMb - TARGETS.idleRssMb)) / added)}% of what the service adds.`;
  return (
    `The floor under the idle RSS: a bare node:http server run by plain node idles at ${formatMb(bareNodeIdle.rssMb)} MB ` +
    `(${formatMb(bareNodeIdle.fileMb)} MB of it file pages: node's own binary and libraries). The service adds ${formatMb(added)} MB to it ` +
    `(anonymous memory, the heap and compiled code: ${formatMb(idle.anonMb - bareNodeIdle.anonMb)} MB; file pages: ` +
    `${formatMb(idle.fileMb - bareNodeIdle.fileMb)} MB, lmdb's addon and the bundle's code cache among them); the target ` +
    `(< ${TARGETS.idleRssMb} MB) leaves it ${formatMb(left)} MB. ${verdict}`
  );
}

/**
 * /health's p99 under saturation against the CPU one /accounts request costs: a probe waits behind
 * the requests of the busy connections, so its wait grows with that cost. The run measures two
 * points, raw node:http and the service (p99 under the same load against CPU µs per /accounts
 * request); the line through them gives the cost at which the p99 would meet the target. Two points
 * that do not rise from the raw server to the service give no line, and no figure.
 */
export function probeFloor(results: Results): string {
  const target = TARGETS.healthP99UnderLoadMs;
  const raw = { us: results.throughput.accounts.raw.cpuUsPerRequest, p99: results.healthUnderLoadRaw.p99Ms };
  const service = { us: results.throughput.accounts.service.cpuUsPerRequest, p99: results.healthUnderLoad.p99Ms };
  if (![raw.us, raw.p99, service.us, service.p99].every((value) => Number.isFinite(value) && value > 0)) return '';
  const points =
    `The floor under /health's p99 while /accounts is saturated: a probe waits behind the requests of the busy ` +
    `connections, so its p99 grows with what an /accounts request costs. This run's two points: raw node:http, ` +
    `p99 ${raw.p99.toFixed(1)} ms at ${us(raw.us)} µs of CPU per /accounts request; the service, ` +
    `${service.p99.toFixed(1)} ms at ${us(service.us)} µs. `;
  if (service.us <= raw.us || service.p99 <= raw.p99)
    return (
      points +
      `They give no line to extrapolate (the service ${service.us <= raw.us ? 'costs no more CPU per request' : 'has no higher p99'} ` +
      `than raw node:http), so no cost per request is given for p99 < ${target} ms.`
    );
  const slope = (service.p99 - raw.p99) / (service.us - raw.us);
  const atZero = raw.p99 - slope * raw.us;
  const line = `The line through them: ${slope.toFixed(3)} ms of p99 per µs, ${atZero.toFixed(1)} ms at zero. `;
  if (atZero >= target)
    return points + line + `No cost per request gets it under ${target} ms by that line: only probes answered ahead of the queue would.`;
  const allowed = (target - atZero) / slope;
  return (
    points +
    line +
    `By that line (two points: a rough guide), p99 < ${target} ms takes an /accounts request of at most about ${us(allowed)} µs` +
    (allowed < service.us ? `, ${us(service.us - allowed)} µs less than the service's, or probes answered ahead of the queue.` : ': the service is within it.')
  );
}

/**
 * The healthchecker's wall time against the least a probe run by node can do: node's start, one
 * connection, one request, the status line. What the healthchecker takes over that is its own work.
 */
export function healthcheckerFloor(results: Results): string {
  const { node, healthchecker, minimalProbe } = results.probeCommands;
  if (!isMeasured(healthchecker) || minimalProbe === undefined || !isMeasured(minimalProbe)) return '';
  // A probe that failed may have failed fast: its time is no floor.
  if (minimalProbe.failures > 0)
    return (
      `The least a probe run by node can do (bench/programs/minimal-probe.cjs) failed ${minimalProbe.failures} of its ` +
      `${minimalProbe.runs} timed runs: no floor under the healthchecker's wall time is given.`
    );
  const floor = minimalProbe.medianMs / node.medianMs;
  const own = healthchecker.medianMs - minimalProbe.medianMs;
  const fits = floor <= TARGETS.healthcheckerVsNode;
  return (
    `The floor under the healthchecker's wall time: the least a probe run by node can do (connect, one GET /health, ` +
    `read the status line; no argument checks, no timeout) takes ${minimalProbe.medianMs.toFixed(1)} ms, ` +
    `${floor.toFixed(2)}x \`node -e 0\`. The healthchecker takes ${own.toFixed(1)} ms more than that (its argument checks, ` +
    `timeout and response parsing, and the noise of medians of separate processes). ` +
    (fits
      ? `The floor is under the target (<= ${TARGETS.healthcheckerVsNode.toFixed(2)}x).`
      : `The floor alone is over the target (<= ${TARGETS.healthcheckerVsNode.toFixed(2)}x): no probe run by node meets it on this machine; ` +
        `a native client would (curl, above), and the distroless image has none.`)
  );
}
