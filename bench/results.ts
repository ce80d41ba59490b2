// The shape of results.json: everything one bench run measured, from which the report is drawn.

import type { LoadFigure, ProbeFigure, StartFigure } from './measure.js';
import type { Memory } from './processes.js';
import type { TimingSummary } from './stats.js';

export interface Meta {
  readonly date: string;
  readonly nproc: number;
  readonly cpu: string;
  readonly kernel: string;
  readonly node: string;
  readonly loadTool: string;
  readonly pinning: string;
  readonly mode: string;
  readonly loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
}

export interface Settings {
  readonly warmupS: number;
  readonly roundS: number;
  readonly rounds: number;
  readonly saturationS: number;
  readonly startCommandRuns: number;
  readonly startCommandWarmup: number;
  readonly startupRuns: number;
  readonly connections: number;
  readonly probeIntervalMs: number;
  readonly serviceEnv: string;
  readonly accountPaths: number;
}

export interface ProfileSummary {
  readonly rps: number;
  readonly seconds: number;
  readonly busySamples: number;
  readonly topFunctions: { name: string; percent: number }[];
  readonly byPackage: { name: string; percent: number }[];
}

/** A figure that could not be measured: why. */
export type Missing = string;

export interface Results {
  readonly meta: Meta;
  readonly settings: Settings;
  readonly throughput: {
    readonly accounts: {
      raw: LoadFigure;
      fastify: LoadFigure;
      service: LoadFigure;
      serviceNoAccessLog: LoadFigure;
      /** Bare Fastify reading each account from the service's LMDB store. */
      fastifyLmdb: LoadFigure;
      /** The service with ACCESS_LOG=off METRICS=off. */
      serviceMinimal: LoadFigure;
      /** What a user would run instead: Fastify with its own default request logging, to a file. */
      fastifyLogging: LoadFigure;
    };
    readonly health: {
      raw: LoadFigure;
      fastify: LoadFigure;
      service: LoadFigure;
      /** raw node:http with health-views' interceptor and no hooks (bench/programs/health-server.ts). */
      healthViews: LoadFigure;
      /** The service with ACCESS_LOG=off METRICS=off (probes are not logged at info anyway). */
      serviceMinimal: LoadFigure;
    };
  };
  /** The store's read alone, CPU ns per read (bench/programs/store-read.ts). */
  readonly storeRead: StoreReadFigure | Missing;
  readonly healthUnderLoad: ProbeFigure;
  readonly healthUnderLoadRaw: ProbeFigure;
  readonly healthTransitions: { service: string; check: string; from: string; to: string; cause: string | null }[];
  readonly probeCommands: {
    method: string;
    node: TimingSummary;
    healthchecker: TimingSummary | Missing;
    /** bench/programs/minimal-probe.cjs: the least a probe run by node can do (absent in runs before it). */
    minimalProbe?: TimingSummary | Missing;
    curl: TimingSummary | Missing;
  };
  /** This node's starts first, then the second node's (or why it was not timed). */
  readonly starts: {
    readonly thisNode: StartFigure;
    readonly secondNode: StartFigure | Missing;
    /** The second node with a compile cache written by an earlier start (NODE_COMPILE_CACHE, Node >= 22.1). */
    readonly secondNodeCompileCache: StartFigure | Missing;
  };
  readonly memory: {
    idle: Memory;
    afterLoad: Memory;
    /** A bare node:http server run by plain node, idle after one request: the floor of a Node server. */
    bareNodeIdle: Memory | Missing;
  };
  profile?: Record<'accounts' | 'health', ProfileSummary>;
  targets?: TargetVerdict[];
}

export interface StoreReadFigure {
  readonly mapGetNs: number;
  /** lmdb-js's getBinaryFast in a tight loop, no copy: lmdb's own best case. */
  readonly lmdbBestCaseNs: number;
  /** store.getAccountJson in a tight loop: the best case plus the copy out of lmdb's buffer. */
  readonly storeTightNs: number;
  /** lmdb's getBinaryFast alone in its event-loop turn, 1 ms after the last: it renews lmdb's read transaction. */
  readonly lmdbOnePerTurnNs: number;
  /** The store's read alone in its turn, 1 ms after the last (its own read transaction, shared for a while). */
  readonly storeOnePerTurnNs: number;
  readonly storeTenPerTurnNs: number;
}

export type Verdict = 'PASS' | 'MISS' | 'MISSING';

export interface TargetVerdict {
  readonly id: string;
  readonly name: string;
  /** The figure judged, or null when it could not be measured. */
  readonly value: number | null;
  /** The figure as the report shows it, with its range. */
  readonly shown: string;
  readonly target: string;
  readonly result: Verdict;
}

export const isMeasured = <T extends object>(value: T | Missing): value is T => typeof value === 'object' && value !== null;
