// A README code block run as the program a user would save and run: `node --import tsx block.ts`
// in a project of its own, with no environment but PATH and PORT=0. The report-listening hook tells
// where it listens, so the test knows whether it is a server and where to probe it.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { withDeadline } from './deadline.js';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** performance.now() when it came. */
  readonly at: number;
}

export interface Program {
  readonly child: ChildProcess;
  /** The first address it listened on, or its exit if it ended without listening. */
  readonly started: Promise<{ readonly base: string } | { readonly exit: Exit }>;
  readonly exited: Promise<Exit>;
  output(): string;
}

const reportListening = new URL('./report-listening.ts', import.meta.url).href;

export function startProgram(file: string, cwd: string): Program {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', reportListening, file], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const listening = firstLine(child.stdio[3] as Readable).then((line) => ({ base: baseOf(line) }));
  const started = Promise.race([listening, exited.then((exit) => ({ exit }))]);
  return { child, started, exited, output: () => output };
}

/** Stops a program the test is done with, if it still runs, and waits for it to go. */
export async function stopProgram(program: Program): Promise<void> {
  const { child } = program;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await withDeadline(program.exited, 5000, 'a README program to die after SIGKILL');
}

function firstLine(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf('\n');
      if (end >= 0) resolve(text.slice(0, end));
    });
  });
}

/** http://host:port of a listening address; a server on every interface is probed on loopback. */
function baseOf(line: string): string {
  const { address, port } = JSON.parse(line) as { address: string; port: number };
  const host = address === '::' || address === '0.0.0.0' ? '127.0.0.1' : address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
