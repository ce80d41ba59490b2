// The README's code runs, so the docs cannot rot. Every TypeScript block is a file of a project of
// its own that has the built package installed, compiled strict as a user's project would be; every
// block not marked `<!-- fragment: why -->` runs as written, with no environment but PORT=0: a
// program that listens must answer 200 on each of its views, turn /health/ready 503 at SIGTERM while
// /health/live stays 200, and exit 0 by itself; any other program must exit 0 by itself. The probe
// settings (Kubernetes YAML, Docker's HEALTHCHECK and the stack file) must name views those programs
// serve, and Docker's probe command must say 0 to a 200 and 1 to a 503. Every link must resolve in
// the published package or in the repository. Runs on the built package (dist/): build first.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { parseMarkdown, type CodeBlock } from './helpers/markdown.js';
import { startProgram, stopProgram, type Exit, type Program } from './helpers/readme-program.js';
import { withDeadline } from './helpers/deadline.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const root = join(packageDir, '..', '..');
const readme = parseMarkdown(readFileSync(join(packageDir, 'README.md'), 'utf8'));
const typescript = readme.blocks.filter((block) => block.lang === 'ts' || block.lang === 'typescript');
const isFragment = (block: CodeBlock): boolean => block.marker?.startsWith('fragment') === true;
const runnable = typescript.filter((block) => !isFragment(block));
const fileOf = (block: CodeBlock): string => `readme-line-${block.line}.ts`;
const where = (block: CodeBlock): string => `the block at README line ${block.line} (${block.section})`;

/** Where the shutdown's defaults (drain 3 s, then 5 s) put the exit, with room for a slow machine. */
const EXIT_AFTER_SIGTERM_MS = 12_000;

let project = '';
before(() => {
  project = writeProject(typescript);
});
after(() => {
  if (project !== '') rmSync(project, { recursive: true, force: true });
});

describe('README code', () => {
  it('has runnable TypeScript blocks, and fragments say why they do not run', () => {
    assert.ok(runnable.length >= 6, `expected the quick start and a program per section, found ${runnable.length}`);
    const unexplained = typescript.filter((block) => block.marker === 'fragment').map(where);
    assert.deepEqual(unexplained, [], 'a fragment marker says why: <!-- fragment: needs a database -->');
  });

  it('compiles every TypeScript block, strict, against the built package', () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const run = spawnSync(process.execPath, [tsc, '-p', '.'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    const errors = run.stdout.split('\n').filter((line) => line.includes('error TS'));
    assert.equal(run.status, 0, `expected no error; tsc said:\n${errors.map(onReadmeLine).join('\n') || run.stderr}`);
  });

  for (const block of runnable) {
    it(`runs ${where(block)}`, async (t) => {
      const program = startProgram(join(project, fileOf(block)), project);
      try {
        const started = await withDeadline(program.started, 30_000, `${where(block)} to listen or exit`);
        if ('exit' in started) assertCleanExit(started.exit, block, program);
        else t.diagnostic(await serveThenStop(block, program, started.base));
      } finally {
        await stopProgram(program);
      }
    });
  }

  it('gives probe settings that name views the programs serve', () => {
    const served = new Set(runnable.flatMap((block) => viewPaths(block.code)));
    const probed = [...kubernetesProbePaths(), ...dockerProbes().map((probe) => probe.path)];
    assert.ok(probed.length >= 5, `expected the three Kubernetes probes and two Docker ones, found ${probed.length}`);
    const unserved = probed.filter((path) => !served.has(path));
    assert.deepEqual(unserved, [], `probed paths no program serves (served: ${[...served].join(', ')})`);
  });

  it('links only to what the published package holds, the repository, or a heading', () => {
    const broken = readme.links.filter((link) => !resolves(link.target)).map((l) => `line ${l.line}: ${l.target}`);
    assert.deepEqual(broken, []);
  });
});

/** A project of the blocks, one file each, with this repository's node_modules (the built package). */
function writeProject(blocks: readonly CodeBlock[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'health-views-readme-'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  for (const block of blocks) writeFileSync(join(dir, fileOf(block)), `${block.code}\n`);
  const compilerOptions = {
    strict: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2023',
    lib: ['es2023'],
    types: ['node'],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: blocks.map(fileOf) }));
  return dir;
}

/** `readme-line-40.ts(3,7): error TS2304: ...` as `README line 42, column 7: error TS2304: ...`. */
function onReadmeLine(error: string): string {
  const match = /^readme-line-(\d+)\.ts\((\d+),(\d+)\): (.*)$/.exec(error);
  if (!match) return error;
  return `README line ${Number(match[1]) + Number(match[2]) - 1}, column ${match[3]}: ${match[4]}`;
}

function assertCleanExit(exit: Exit, block: CodeBlock, program: Program): void {
  const how = exit.signal === null ? `code ${exit.code}` : `signal ${exit.signal} (no shutdown handled it)`;
  assert.ok(
    exit.code === 0 && exit.signal === null,
    `${where(block)}: expected exit 0, got ${how}:\n${program.output()}`,
  );
}

/** Every view UP, the Docker probes 0; then SIGTERM: ready 503 at once, live 200, each probe's view 503 and its probe 1, exit 0. */
async function serveThenStop(block: CodeBlock, program: Program, base: string): Promise<string> {
  const paths = viewPaths(block.code);
  assert.ok(paths.length > 0, `${where(block)} listens but defines no view path`);
  for (const path of paths) {
    const answer = await untilAnswer(base, path, 200, 15_000, program);
    assert.equal(answer.body, '{"status":"UP"}', `${where(block)}: ${path}`);
  }
  const probes = dockerProbes().filter((probe) => paths.includes(probe.path));
  for (const probe of probes) assert.equal(await runProbe(probe, base), 0, `${probe.source}: probe says 0 on a 200`);
  const signalledAt = performance.now();
  program.child.kill('SIGTERM');
  // Each probe's view must be 503 once the shutdown has begun, or its probe's 1 is never checked.
  let onDown = 0;
  const notDown: string[] = [];
  if (paths.includes('/health/ready')) {
    const ready = await untilAnswer(base, '/health/ready', 503, 1000, program);
    assert.equal(
      (JSON.parse(ready.body) as { status: string }).status,
      'DOWN',
      `${where(block)}: /health/ready after SIGTERM`,
    );
    if (paths.includes('/health/live')) assert.equal((await get(base, '/health/live')).status, 200, 'live draining');
    for (const probe of probes) {
      const { status } = await get(base, probe.path);
      if (status !== 503) notDown.push(`${probe.source}: ${probe.path} answered ${status}`);
      else {
        assert.equal(await runProbe(probe, base), 1, `${probe.source}: probe says 1 on a 503`);
        onDown++;
      }
    }
  }
  assert.equal(
    onDown,
    probes.length,
    `${where(block)}: ${onDown} of ${probes.length} Docker probes run on a 503 after SIGTERM ` +
      `(${notDown.join('; ') || 'no /health/ready to wait for the shutdown on'})`,
  );
  const exit = await withDeadline(program.exited, EXIT_AFTER_SIGTERM_MS, `${where(block)} to exit after SIGTERM`);
  assertCleanExit(exit, block, program);
  const docker = probes.length === 0 ? '' : `; ${probes.length} Docker probes 0 on 200, ${onDown} 1 on 503`;
  return `views ${paths.join(' ')} UP${docker}; exit 0 ${Math.round(exit.at - signalledAt)} ms after SIGTERM`;
}

/** The paths of the views a program defines: its `path: '/...'` properties. */
function viewPaths(code: string): string[] {
  return [...code.matchAll(/\bpath: '(\/[^']*)'/g)].map((match) => match[1] ?? '');
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

async function get(base: string, path: string): Promise<Answer> {
  const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.text() };
}

/** Polls until path answers status; the error says what it answered last and what the program printed. */
async function untilAnswer(base: string, path: string, status: number, ms: number, program: Program): Promise<Answer> {
  const deadline = Date.now() + ms;
  for (;;) {
    let last: string;
    try {
      const answer = await get(base, path);
      if (answer.status === status) return answer;
      last = `${answer.status} ${answer.body}`;
    } catch (error) {
      last = String(error);
    }
    const { exitCode, signalCode } = program.child;
    if (exitCode !== null || signalCode !== null) {
      const how = signalCode === null ? `with code ${exitCode}` : `by ${signalCode} (no shutdown handled it)`;
      throw new Error(`${path}: expected ${status}, but the program ended ${how}; output:\n${program.output()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${path}: expected ${status} within ${ms} ms, last got ${last}; output:\n${program.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface DockerProbe {
  /** Where the README gives it. */
  readonly source: string;
  /** The command, `node` first. */
  readonly command: readonly string[];
  readonly url: string;
  readonly path: string;
}

/** The HEALTHCHECK commands of the Dockerfile blocks and the `healthcheck.test` of the stack files. */
function dockerProbes(): DockerProbe[] {
  const commands: { source: string; command: unknown }[] = [];
  for (const block of readme.blocks) {
    if (block.lang === 'dockerfile') {
      const json = /HEALTHCHECK .*? CMD (\[.*\])/.exec(block.code.replace(/\\\n\s*/g, ' '))?.[1];
      if (json !== undefined)
        commands.push({ source: `README line ${block.line}`, command: ['CMD', ...(JSON.parse(json) as unknown[])] });
    }
    for (const document of block.lang === 'yaml' ? yamlOf(block) : []) {
      for (const service of Object.values(asRecord(asRecord(document).services))) {
        const test = asRecord(asRecord(service).healthcheck).test;
        if (test !== undefined) commands.push({ source: `README line ${block.line}`, command: test });
      }
    }
  }
  return commands.map(({ source, command }) => {
    assert.ok(Array.isArray(command) && command[0] === 'CMD', `${source}: a probe in exec form, ['CMD', ...]`);
    const args = (command as unknown[]).slice(1).map(String);
    const url = args.join(' ').match(/http:\/\/[^'"\s]+/)?.[0];
    assert.ok(args[0] === 'node' && url !== undefined, `${source}: a node command with a URL`);
    return { source, command: args, url, path: new URL(url).pathname };
  });
}

/** Runs a Docker probe against the program under test; resolves with its exit code. */
async function runProbe(probe: DockerProbe, base: string): Promise<number | null> {
  const args = probe.command.slice(1).map((arg) => arg.replace(new URL(probe.url).origin, base));
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '' }, stdio: 'ignore' });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    return await withDeadline(exit, 10_000, `${probe.source}'s probe command to exit`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** Every `httpGet.path` in the YAML blocks. */
function kubernetesProbePaths(): string[] {
  const paths: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) {
      const path = asRecord(asRecord(value).httpGet).path;
      if (typeof path === 'string') paths.push(path);
      Object.values(value).forEach(visit);
    }
  };
  readme.blocks.filter((block) => block.lang === 'yaml').forEach((block) => yamlOf(block).forEach(visit));
  return paths;
}

function yamlOf(block: CodeBlock): unknown[] {
  return parseAllDocuments(block.code).map((document) => {
    assert.deepEqual(document.errors, [], `README line ${block.line}: YAML that parses`);
    return document.toJS() as unknown;
  });
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** A heading, a file npm packs (dist/, README, LICENSE, package.json), or a file of the repository. */
function resolves(target: string): boolean {
  if (target.startsWith('#')) return readme.anchors.has(target.slice(1));
  const repository = repositoryUrl();
  for (const tree of ['/blob/main/', '/tree/main/']) {
    if (target.startsWith(repository + tree)) return existsSync(join(root, target.slice((repository + tree).length)));
  }
  if (/^https?:\/\//.test(target)) return !target.startsWith(repository);
  const file = target.split('#')[0] ?? '';
  const packed = ['README.md', 'LICENSE', 'package.json'].includes(file) || file.startsWith('dist/');
  return packed && existsSync(join(packageDir, file));
}

/** The repository's web address, from package.json's `repository`. */
function repositoryUrl(): string {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    repository: { url: string };
  };
  return manifest.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
}
