// Runs a program to its end and keeps what it wrote: for tests of programs that are not the
// service (the bench, small child programs). Bounded: killed by its PID at the deadline.

import { spawn } from 'node:child_process';
import { ROOT } from './service-process.js';

export interface Ended {
  /** The exit code, or the signal that ended it. */
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node --import tsx <script> ...args` from the repository root, SIGTERM'd after deadlineMs. */
export function runTsToEnd(script: string, args: readonly string[], deadlineMs: number): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGTERM'), deadlineMs);
    // 'close', not 'exit': everything the program wrote has been read by then.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'unknown', stdout, stderr });
    });
  });
}
