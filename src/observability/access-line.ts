// The access line, written without pino's per-call serialisation but byte for byte as pino writes
// it. pino renders a template of the line once per level, with placeholders for the fields; each
// request then fills the placeholders in. pino's generic serialiser would walk the fields object
// key by key on every request, checking each for serializers, redaction and escaping: work whose
// result is the same for every access line but the values (bench/REPORT.md: what the access line costs a request).

import { pino, type Logger } from 'pino';

/** The fields of one access line, in the order they are written. */
export interface AccessLine {
  readonly requestId: string;
  readonly method: string;
  readonly route: string;
  readonly url: string;
  readonly statusCode: number;
  readonly durationMs: number;
  readonly msg: string;
}

type Level = 'info' | 'debug';

/** Writes one access line at the level, to the logger's stream. */
export type AccessLineWriter = (level: Level, line: AccessLine) => void;

// Placeholders pino leaves as they are: letters and digits only, no escaping to undo.
const TIME = 'zzTIMEzz';
const TEXT = ['zzIDzz', 'zzMETHODzz', 'zzROUTEzz', 'zzURLzz'] as const;
const STATUS = 123_456_789;
const DURATION = 987_654.321;
const MSG = 'zzMSGzz';

/** The template's fixed parts at one level: between them go time, the four strings, two numbers and msg. */
type Parts = readonly [string, string, string, string, string, string, string, string, string];

interface PinoInternals {
  [key: symbol]: unknown;
}

/**
 * Whether pino adds anything per call that a template would freeze or miss: a mixin, a log
 * formatter, a message prefix or a hook on the written line.
 */
function addsPerCall(logger: Logger, internals: PinoInternals): boolean {
  const formatters = internals[pino.symbols.formattersSym] as { log?: unknown };
  const hooks = internals[pino.symbols.hooksSym] as { logMethod?: unknown; streamWrite?: unknown };
  return (
    internals[pino.symbols.mixinSym] !== undefined ||
    formatters.log !== undefined ||
    logger.msgPrefix !== undefined ||
    hooks.logMethod !== undefined ||
    hooks.streamWrite !== undefined
  );
}

/**
 * The line pino renders for placeholder fields, cut at the placeholders, or undefined when
 * serializers or escaping change the placeholders.
 */
function templateOf(logger: Logger, requestIdLabel: string, level: Level): Parts | undefined {
  const internals = logger as unknown as PinoInternals;
  const render = internals[pino.symbols.asJsonSym] as (obj: object, msg: string, num: number, time: string) => string;
  const fields = {
    [requestIdLabel]: TEXT[0],
    method: TEXT[1],
    route: TEXT[2],
    url: TEXT[3],
    statusCode: STATUS,
    durationMs: DURATION,
  };
  const line = render.call(logger, fields, MSG, logger.levels.values[level]!, TIME);
  const cuts = [TIME, ...TEXT.map((text) => `"${text}"`), String(STATUS), String(DURATION), `"${MSG}"`];
  const parts: string[] = [];
  let rest = line;
  for (const cut of cuts) {
    const at = rest.indexOf(cut);
    if (at < 0) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + cut.length);
  }
  parts.push(rest);
  return parts as unknown as Parts;
}

/**
 * A writer of access lines to the logger's own stream, as pino would write them, or undefined when
 * the logger's options make pino's line differ from the template.
 */
export function createAccessLineWriter(logger: Logger, requestIdLabel: string): AccessLineWriter | undefined {
  const internals = logger as unknown as PinoInternals;
  if (addsPerCall(logger, internals)) return undefined;
  const stream = internals[pino.symbols.streamSym] as pino.DestinationStream;
  const time = internals[pino.symbols.timeSym] as () => string;
  const info = templateOf(logger, requestIdLabel, 'info');
  const debug = templateOf(logger, requestIdLabel, 'debug');
  if (info === undefined || debug === undefined) return undefined;
  const quote = JSON.stringify;
  return (level, line) => {
    const p = level === 'info' ? info : debug;
    stream.write(
      p[0] +
        time() +
        p[1] +
        quote(line.requestId) +
        p[2] +
        quote(line.method) +
        p[3] +
        quote(line.route) +
        p[4] +
        quote(line.url) +
        p[5] +
        line.statusCode +
        p[6] +
        line.durationMs +
        p[7] +
        quote(line.msg) +
        p[8],
    );
  };
}
