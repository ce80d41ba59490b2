#!/usr/bin/env node
// Runs every test/**/*.test.ts and packages/*/test/**/*.test.ts (the workspaces' own tests) with
// Node's built-in test runner (TypeScript through tsx), two files at a time. Node 20's --test takes
// no globs, so the files are listed here. Arguments narrow the set:
//   npm test -- test/unit            only the unit tests
//   npm test -- test/e2e/swarm       files whose path contains that text
//   node scripts/run-tests.mjs --limit-s=5 /tmp/x.test.ts     any file by its path, a 5 s hang limit
// --limit-s takes a number of seconds above 0; any other option starting with -- is refused (one
// line, exit 1), and after a bare -- every argument is a filter.
//
// Each file runs in a process group of its own, watched from here: a test that has had no result
// (nor any of its subtests) for the limit is named on stderr at once and its file is killed with
// everything it started. Node's own --test-timeout cannot do this: under --test it bounds a whole
// file, not a test, and names no test; and a test blocked in a synchronous call (a spawnSync with
// no timeout) stops the timers that would end it. --test-force-exit ends a file whose tests are
// done though a child or socket still holds its process. A file's output is printed when it ends.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { isCi } from './ci.mjs';
import { MARK } from './test-events.mjs';

const root = new URL('..', import.meta.url).pathname;
/** In CI every test runs: a file with a skipped or todo test fails there. */
const CI = isCi();
const CONCURRENCY = 2;
/** How long the runner waits, after a file exits, for the rest of its output. */
const DRAIN_MS = 2000;
/** How long a test may go without a result, unless LONG_RUNNING says otherwise for its file. */
const DEFAULT_LIMIT_MS = 120_000;
/**
 * Files whose tests run longer by design (each bounds itself with its own deadline, below these).
 * @type {[string, number][]}
 */
const LONG_RUNNING = [
  ['test/e2e/', 20 * 60_000],
  ['test/process/bench.test.ts', 10 * 60_000],
];

/**
 * @param {string} dir
 * @returns {string[]}
 */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return walk(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * The files the arguments name: paths containing any filter, or a file given by its path.
 * @param {string[]} filters
 * @returns {string[]}
 */
function selectFiles(filters) {
  const packageTests = readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'packages', entry.name, 'test')))
    .map((entry) => join(root, 'packages', entry.name, 'test'));
  const given = filters
    .filter((filter) => filter.endsWith('.ts') && existsSync(resolve(root, filter)))
    .map((filter) => (isAbsolute(filter) ? filter : join(root, filter)))
    .map((file) => relative(root, file));
  const found = [join(root, 'test'), ...packageTests]
    .flatMap(walk)
    .map((file) => relative(root, file))
    .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)));
  return [...new Set([...found, ...given])].sort();
}

/**
 * What is in flight in one file, from its test events: each test with the last time it, or a test
 * inside it, made progress. A test whose progress is older than the limit is hung. A test that
 * blocks its process at once is never reported as begun (events are written asynchronously), so
 * the last result says where the file was.
 */
function createTracker() {
  /** @type {{ name: string; nesting: number; progressAt: number }[]} */
  const running = [];
  let lastEventAt = Date.now();
  /** @type {string | undefined} */
  let lastResult;
  const pathTo = (/** @type {number} */ nesting, /** @type {string} */ name) =>
    [...running.filter((test) => test.nesting < nesting).map((test) => test.name), name].join(' > ');
  return {
    /** @param {{ type: string; name: string; nesting: number }} event */
    record(event) {
      const now = Date.now();
      lastEventAt = now;
      // Any event inside a test is progress of that test (and of the suites around it).
      for (const test of running) if (test.nesting < event.nesting) test.progressAt = now;
      if (event.type === 'test:dequeue') running.push({ name: event.name, nesting: event.nesting, progressAt: now });
      else {
        const index = running.findLastIndex((test) => test.name === event.name && test.nesting === event.nesting);
        if (index >= 0) running.splice(index, 1);
        lastResult = pathTo(event.nesting, event.name);
      }
    },
    /**
     * Where the file is stuck when nothing has progressed for limitMs, or undefined.
     * @param {number} limitMs
     * @returns {string | undefined}
     */
    hung(limitMs) {
      const now = Date.now();
      const stale = running.filter((test) => now - test.progressAt > limitMs);
      const last = lastResult === undefined ? 'no result yet' : `last result: "${lastResult}"`;
      if (stale.length > 0) {
        const innermost = stale.reduce((a, b) => (b.nesting > a.nesting ? b : a));
        return `"${pathTo(innermost.nesting, innermost.name)}" (${last})`;
      }
      if (running.length > 0 || now - lastEventAt <= limitMs) return undefined;
      return `outside any test it reported (${last})`;
    },
  };
}

/**
 * The files' environment: this one without NODE_TEST_CONTEXT, which node --test sets for the files
 * it runs. Run under node --test (as test/process/run-tests.test.ts is), the runner passed it on,
 * and its files then wrote V8-serialised events to stdout instead of the reporters asked for here:
 * no test events, so every test was "outside any test it reported".
 */
const fileEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_TEST_CONTEXT'));

/**
 * @typedef {{ type: string; name: string; nesting: number; skip: boolean; todo: boolean }} TestEvent
 * @typedef {{ outcome: 'passed' | 'skipped' | 'failed'; text: string }} Verdict
 */

/**
 * A file's verdict: passed only when it exited 0, in time, having run every test. A file with
 * skipped or todo tests (or suites) is "skipped N, todo M", never passed; in CI, which runs every
 * test, it fails.
 * @param {{ code: number | null; signal: NodeJS.Signals | null; hung: boolean; skipped: number; todo: number }} end
 * @param {boolean} ci
 * @returns {Verdict}
 */
function verdictOf({ code, signal, hung, skipped, todo }, ci) {
  const notRun = [skipped > 0 ? `skipped ${skipped}` : '', todo > 0 ? `todo ${todo}` : ''].filter(Boolean).join(', ');
  if (hung) return { outcome: 'failed', text: 'HUNG' };
  if (code !== 0) return { outcome: 'failed', text: `FAILED (${code ?? signal})${notRun === '' ? '' : `, ${notRun}`}` };
  if (notRun === '') return { outcome: 'passed', text: 'passed' };
  if (ci) return { outcome: 'failed', text: `FAILED (${notRun}: in CI every test runs)` };
  return { outcome: 'skipped', text: notRun };
}

/**
 * Runs one file in a process group of its own; resolves with its verdict.
 * @param {string} file
 * @param {number} limitMs
 * @param {Set<import('node:child_process').ChildProcess>} running
 * @returns {Promise<Verdict>}
 */
function runFile(file, limitMs, running) {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test-force-exit',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${join(root, 'scripts/test-events.mjs')}`,
      '--test-reporter-destination=stderr',
      file,
    ],
    { cwd: root, env: fileEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  const tracker = createTracker();
  /** @type {string[]} */
  const output = [];
  /** @type {string | undefined} */
  let hungMessage;
  let skipped = 0;
  let todo = 0;
  child.stdout.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => output.push(chunk));
  let partial = '';
  child.stderr.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith(MARK)) {
        output.push(`${line}\n`);
        continue;
      }
      const event = parseEvent(line.slice(MARK.length));
      tracker.record(event);
      if (event.type === 'test:complete' && event.skip) skipped++;
      if (event.type === 'test:complete' && event.todo) todo++;
    }
  });
  const watch = setInterval(() => {
    const where = tracker.hung(limitMs);
    if (where === undefined || hungMessage !== undefined) return;
    hungMessage =
      `test-watchdog: ${file}: no progress for ${limitMs / 1000} s ${where.startsWith('"') ? 'in ' : ''}${where}: ` +
      'stopping the file and everything it started';
    process.stderr.write(`${hungMessage}\n`);
    killGroup(child);
  }, 1000);
  return new Promise((resolve) => {
    child.on('exit', async (code, signal) => {
      clearInterval(watch);
      killGroup(child); // whatever the file left running (services, children of a killed test)
      running.delete(child);
      await drained(child, DRAIN_MS);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const verdict = verdictOf({ code, signal, hung: hungMessage !== undefined, skipped, todo }, CI);
      process.stdout.write(`\n── ${file}: ${verdict.text} in ${seconds} s ──\n${output.join('')}${partial}`);
      if (hungMessage !== undefined) process.stdout.write(`${hungMessage}\n`);
      resolve(verdict);
    });
  });
}

/**
 * Resolves once the child's pipes are read to their end (its last test events, a skip, may still be
 * in them when it exits), or after ms: a process that left its group may hold them open.
 * @param {import('node:child_process').ChildProcess} child
 * @param {number} ms
 * @returns {Promise<void>}
 */
function drained(child, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    child.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * One line of scripts/test-events.mjs.
 * @param {string} text
 * @returns {TestEvent}
 */
function parseEvent(text) {
  /** @type {unknown} */
  const parsed = JSON.parse(text);
  const { type, name, nesting, skip, todo } = /** @type {Record<string, unknown>} */ (parsed);
  return { type: String(type), name: String(name), nesting: Number(nesting), skip: skip === true, todo: todo === true };
}

/** @param {import('node:child_process').ChildProcess} child */
function killGroup(child) {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

/**
 * @param {string} file
 * @param {number | undefined} limitArg
 * @returns {number}
 */
function limitFor(file, limitArg) {
  if (limitArg !== undefined) return limitArg;
  return LONG_RUNNING.find(([fragment]) => file.includes(fragment))?.[1] ?? DEFAULT_LIMIT_MS;
}

/**
 * The runner's arguments: --limit-s=<seconds> (a number above 0; the last one given counts), a
 * bare -- after which everything is a filter, and filters. Anything else starting with -- is a
 * mistake (a --limit=5 was ignored, a --limit-s=abc made the limit NaN): its one line, or the parse.
 * @param {string[]} args
 * @returns {{ limitMs: number | undefined; filters: string[] } | { error: string }}
 */
function parseArgs(args) {
  /** @type {number | undefined} */
  let limitMs;
  /** @type {string[]} */
  const filters = [];
  for (const [index, arg] of args.entries()) {
    if (arg === '--') return { limitMs, filters: [...filters, ...args.slice(index + 1)] };
    if (!arg.startsWith('--')) filters.push(arg);
    else if (arg.startsWith('--limit-s=')) {
      const value = arg.slice('--limit-s='.length);
      const seconds = value.trim() === '' ? NaN : Number(value);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        return { error: `${arg}: the hang limit must be a number of seconds above 0, such as --limit-s=5` };
      }
      limitMs = seconds * 1000;
    } else return { error: `unknown option ${arg}: the options are --limit-s=<seconds> and -- (then filters)` };
  }
  return { limitMs, filters };
}

const args = process.argv.slice(2);
const parsed = parseArgs(args);
if ('error' in parsed) {
  process.stderr.write(`run-tests: ${parsed.error}\n`);
  process.exit(1);
}
const { limitMs } = parsed;
const files = selectFiles(parsed.filters);
if (files.length === 0) {
  console.error(`no test files match ${args.join(' ')}`);
  process.exit(1);
}

/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of running) killGroup(child);
    process.exit(1);
  });
}
/** @type {Map<string, Verdict>} */
const verdicts = new Map();
const queue = [...files];
await Promise.all(
  Array.from({ length: Math.min(CONCURRENCY, files.length) }, async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      verdicts.set(file, await runFile(file, limitFor(file, limitMs), running));
    }
  }),
);
/** @param {Verdict['outcome']} outcome */
const filesThat = (outcome) => files.filter((file) => verdicts.get(file)?.outcome === outcome);
const [skipped, failed] = [filesThat('skipped'), filesThat('failed')];
/** @param {string} title @param {string[]} list */
const listed = (title, list) =>
  list.length === 0 ? '' : `${title}:\n${list.map((file) => `  ${file}: ${verdicts.get(file)?.text}\n`).join('')}`;
process.stdout.write(
  `\n${files.length} test files: ${filesThat('passed').length} passed, ${skipped.length} skipped, ` +
    `${failed.length} failed\n${listed('skipped (tests not run; in CI they fail)', skipped)}${listed('failed', failed)}`,
);
process.exit(failed.length === 0 ? 0 : 1);
