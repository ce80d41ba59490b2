// scripts/run-tests.mjs, the runner of every test file, on test files made to hang: a test that
// never settles is named within seconds of the limit, a file blocked in a synchronous call is
// named too, and each is stopped with everything it started; a file whose tests pass but which leaves
// a child running ends at once. (Node's own --test-timeout bounds a whole file under --test, names
// no test, and cannot fire while a file's process is blocked: files hung for minutes, silent.)
// Its arguments: a hang limit that is not a number of seconds above 0, or an option it does not
// know, is one line and exit 1 before any file runs (--limit-s=abc made the limit NaN, --limit=5 was
// ignored). A file whose tests did not all run (skipped, todo) is "skipped N", never "passed", and
// fails the run in CI.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { withDeadline } from '../helpers/deadline.js';
import { ROOT } from '../helpers/service-process.js';

const dir = mkdtempSync(join(tmpdir(), 'accountservice-run-tests-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Each fixture starts a child (its pid written to <name>.pid) that outlives it unless killed. */
const START_CHILD = `
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const child = spawn('sleep', ['120'], { stdio: 'ignore' });
writeFileSync(process.argv[1] + '.pid', String(child.pid));
`;

const fixtures = {
  'never-settles.test.ts': `import { describe, it } from 'node:test';${START_CHILD}
describe('a suite', () => {
  it('passes', () => {});
  it('waits for what never comes', () => new Promise(() => setInterval(() => {}, 1000)));
});`,
  'blocked.test.ts': `import { test } from 'node:test';${START_CHILD}
test('blocked in a synchronous call', () => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
});`,
  'lingers.test.ts': `import { test } from 'node:test';${START_CHILD}
test('passes, and leaves its child running', () => {});`,
};

/** Whether the process runs: a zombie (killed, not yet reaped by whoever inherited it) does not. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Runs the runner with these arguments (and env added to the tests' own), bounded in time. */
async function runRunner(args: readonly string[], env: Record<string, string> = {}) {
  const runner = spawn(process.execPath, ['scripts/run-tests.mjs', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  runner.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  runner.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => runner.on('close', (code) => resolve(code)));
  try {
    const code = await withDeadline(exited, 60_000, `the runner with ${args.join(' ')} to end`);
    return { code, stdout, stderr };
  } finally {
    runner.kill('SIGTERM');
    await withDeadline(exited, 5000, 'the runner to stop').catch(() => runner.kill('SIGKILL'));
  }
}

/** A file of one passing test: what a runner that ignores a bad argument runs, and passes. */
function passingFile(): string {
  const file = join(dir, 'passes.test.ts');
  writeFileSync(file, `import { test } from 'node:test';\ntest('passes', () => {});\n`);
  return file;
}

test('a hang limit that is not a number of seconds above 0 is refused: one line, exit 1, no file run', async () => {
  const file = passingFile();
  for (const arg of ['--limit-s=abc', '--limit-s=0', '--limit-s=-5', '--limit-s=', '--limit-s=Infinity']) {
    const { code, stdout, stderr } = await runRunner([arg, file]);
    assert.equal(code, 1, `${arg}: exit 1; stdout:\n${stdout}\nstderr:\n${stderr}`);
    assert.equal(stdout, '', `${arg}: no file was run`);
    assert.equal(
      stderr,
      `run-tests: ${arg}: the hang limit must be a number of seconds above 0, such as --limit-s=5\n`,
    );
  }
});

test('an unknown option is refused with one line naming it, exit 1; the known ones are taken', async () => {
  const file = passingFile();
  for (const arg of ['--limit=5', '--limits=5', '--help', '--limit-s']) {
    const { code, stdout, stderr } = await runRunner([arg, file]);
    assert.equal(code, 1, `${arg}: exit 1; stdout:\n${stdout}\nstderr:\n${stderr}`);
    assert.equal(stdout, '', `${arg}: no file was run`);
    assert.equal(
      stderr,
      `run-tests: unknown option ${arg}: the options are --limit-s=<seconds> and -- (then filters)\n`,
    );
  }
  for (const args of [
    ['--limit-s=30', file],
    ['--limit-s=0.5', '--', file],
    [file, '--limit-s=2.5'],
  ]) {
    const { code, stdout, stderr } = await runRunner(args);
    assert.equal(code, 0, `${args.join(' ')}: exit 0; stdout:\n${stdout}\nstderr:\n${stderr}`);
    assert.match(stdout, /1 test files: 1 passed/, args.join(' '));
  }
});

/** Files whose tests do not all run: a skipped suite (as signals.test.ts skips without root) and test, a todo. */
function notAllRun(): { skips: string; todo: string } {
  const skips = join(dir, 'skips.test.ts');
  writeFileSync(
    skips,
    `import { describe, it, test } from 'node:test';
describe('needs root', { skip: 'unshare: needs root' }, () => {
  it('runs as PID 1', () => {});
});
test('runs', () => {});
test('skips itself', (t) => t.skip('no IPv6 here'));
`,
  );
  const todo = join(dir, 'todo.test.ts');
  writeFileSync(todo, `import { test } from 'node:test';\ntest('later', { todo: 'not written yet' }, () => {});\n`);
  return { skips, todo };
}

test('a file with skipped or todo tests is reported as such, never as passed; outside CI it fails nothing', async () => {
  const { skips, todo } = notAllRun();
  const { code, stdout, stderr } = await runRunner([passingFile(), skips, todo], { CI: '' });
  assert.equal(code, 0, `exit 0: nothing failed; stdout:\n${stdout}\nstderr:\n${stderr}`);
  assert.match(stdout, /── \S*skips\.test\.ts: skipped 2 in /, 'the skipped suite and the skipped test');
  assert.match(stdout, /── \S*todo\.test\.ts: todo 1 in /);
  assert.doesNotMatch(stdout, /(skips|todo)\.test\.ts: passed/);
  assert.match(stdout, /── \S*passes\.test\.ts: passed in /);
  assert.match(
    stdout,
    /\n3 test files: 1 passed, 2 skipped, 0 failed\nskipped \(tests not run; in CI they fail\):\n {2}\S*skips\.test\.ts: skipped 2\n {2}\S*todo\.test\.ts: todo 1\n$/,
  );
});

test('in CI (CI=true) a file with skipped or todo tests fails the run', async () => {
  const { skips, todo } = notAllRun();
  const { code, stdout, stderr } = await runRunner([passingFile(), skips, todo], { CI: 'true' });
  assert.equal(code, 1, `exit 1; stdout:\n${stdout}\nstderr:\n${stderr}`);
  assert.match(stdout, /── \S*skips\.test\.ts: FAILED \(skipped 2: in CI every test runs\) in /);
  assert.match(
    stdout,
    /\n3 test files: 1 passed, 0 skipped, 2 failed\nfailed:\n {2}\S*skips\.test\.ts: FAILED \(skipped 2: in CI every test runs\)\n {2}\S*todo\.test\.ts: FAILED \(todo 1: in CI every test runs\)\n$/,
  );
});

test('a hung test is named and its file stopped within seconds; a file that only lingers ends at once', async (t) => {
  const files = Object.entries(fixtures).map(([name, source]) => {
    const file = join(dir, name);
    writeFileSync(file, source);
    return file;
  });
  const started = Date.now();
  const runner = spawn(process.execPath, ['scripts/run-tests.mjs', '--limit-s=3', ...files], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  runner.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  runner.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => runner.on('exit', (code) => resolve(code)));
  let code: number | null;
  try {
    code = await withDeadline(exited, 60_000, 'the runner to end (a hang of the runner itself)');
  } finally {
    // SIGTERM first: the runner then stops the files it runs, and what they started.
    runner.kill('SIGTERM');
    await withDeadline(exited, 5000, 'the runner to stop').catch(() => runner.kill('SIGKILL'));
  }
  const seconds = (Date.now() - started) / 1000;
  t.diagnostic(`the runner ended with ${code} after ${seconds.toFixed(1)} s`);

  assert.equal(code, 1, `exit 1 for the hung files; output:\n${output}`);
  assert.match(
    output,
    /test-watchdog: .*never-settles\.test\.ts: no progress for 3 s in "a suite > waits for what never comes" \(last result: "a suite > passes"\)/,
  );
  // Blocked at once, its process writes no more test events: the file is named, not the test.
  assert.match(output, /test-watchdog: .*blocked\.test\.ts: no progress for 3 s outside any test it reported/);
  assert.match(output, /lingers\.test\.ts: passed in/, `the lingering file passed and ended:\n${output}`);
  assert.match(output, /3 test files: 1 passed, 0 skipped, 2 failed\nfailed:\n.*blocked\.test\.ts: HUNG\n/);
  assert.ok(seconds < 40, `ended after ${seconds.toFixed(1)} s`);
  for (const name of Object.keys(fixtures)) {
    const pid = Number(readFileSync(join(dir, `${name}.pid`), 'utf8'));
    assert.equal(alive(pid), false, `the child ${name} started (pid ${pid}) was stopped with its file`);
  }
});
