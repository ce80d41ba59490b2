// A TypeScript program of the tests run as a real child process (through tsx), every wait bounded.

import { spawn } from 'node:child_process';

export interface Exited {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node --import tsx file ...args`; rejects (and kills the child) when it has not exited within ms. */
export function runProgram(file: URL, args: readonly string[], ms: number): Promise<Exited> {
  const child = spawn(process.execPath, ['--import', 'tsx', file.pathname, ...args], {
    cwd: new URL('../..', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file.pathname} ${args.join(' ')} did not exit within ${ms} ms (stdout: ${stdout})`));
    }, ms);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
