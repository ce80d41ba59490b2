// Refuses to open an LMDB file that another running instance has open. LMDB tells the processes
// sharing an environment apart by PID, and in every container the service is PID 1: two
// containers on one file (a volume both mount) take each other's reader slots and fail with
// errors such as "No transaction to renew". LMDB's own locks cannot be seen across containers
// (/proc/locks hides other PID namespaces' locks), so the instance that has the file open says so
// in a lease file beside it, touched on a heartbeat. Best effort: two instances that start in the
// same instant can both miss each other; the deployment shapes (a fresh volume or emptyDir per task)
// are what make sharing impossible, this only explains a shape that does not.

import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { rm, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Another running instance has the database open: the message names the file and the holder. */
export class SharedDatabaseError extends Error {
  override readonly name = 'SharedDatabaseError';
}

export interface LeaseOptions {
  /** How often the holder touches the lease. Default 1000 ms. */
  readonly heartbeatMs?: number;
  /** A lease untouched for longer is left by an instance that is gone. Default 3 heartbeats. */
  readonly staleMs?: number;
}

export interface Lease {
  /** Stops the heartbeat and removes the lease if it is still this instance's. */
  release(): Promise<void>;
}

interface Holder {
  readonly instance: string;
  /** The PID namespace (/proc/self/ns/pid): a pid means something only inside its own. */
  readonly pidNamespace: string;
  readonly pid: number;
  readonly hostname: string;
}

/** The lease on the database at path, once no other live instance holds it. */
export async function acquireLease(path: string, options: LeaseOptions = {}): Promise<Lease> {
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const staleMs = options.staleMs ?? 3 * heartbeatMs;
  const file = `${resolve(path)}.lease`;
  // No directory: nothing to share, and opening the store reports the missing directory itself.
  if (!existsSync(dirname(file))) return { release: async () => {} };

  const me: Holder = { instance: randomUUID(), pidNamespace: pidNamespace(), pid: process.pid, hostname: hostname() };
  const held = readHolder(file);
  if (held !== undefined) await assertGone(file, held.holder, held.touchedMs, me, staleMs, heartbeatMs);

  try {
    await writeFile(file, JSON.stringify(me));
  } catch {
    // A directory the service cannot write to: opening the store fails next, with its own message.
    return { release: async () => {} };
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => {}); // a missing lease is rewritten by no one: best effort
  }, heartbeatMs);
  heartbeat.unref();
  return {
    async release() {
      clearInterval(heartbeat);
      if (readHolder(file)?.holder.instance === me.instance) await rm(file, { force: true });
    },
  };
}

/** Returns once the holder is known to be gone; throws SharedDatabaseError while it lives. */
async function assertGone(
  file: string,
  holder: Holder,
  touchedMs: number,
  me: Holder,
  staleMs: number,
  heartbeatMs: number,
): Promise<void> {
  const database = file.slice(0, -'.lease'.length);
  const describe = `pid ${holder.pid} on ${holder.hostname}`;
  if (holder.pidNamespace === me.pidNamespace) {
    if (holder.pid === me.pid || !isAlive(holder.pid)) return;
    throw new SharedDatabaseError(sharedMessage(database, `${describe} (a process on this machine) has it open`));
  }
  // Another PID namespace (another container): its pid cannot be checked from here, its heartbeat
  // can. Watch it for longer than it may go untouched: a live holder touches it meanwhile.
  const deadline = Date.now() + staleMs + heartbeatMs;
  while (Date.now() - touchedMs <= staleMs) {
    if (Date.now() > deadline) break;
    await sleep(Math.max(10, Math.min(heartbeatMs / 4, 250)));
    const now = readHolder(file);
    if (now === undefined) return;
    if (now.holder.instance === holder.instance && now.touchedMs > touchedMs) {
      throw new SharedDatabaseError(
        sharedMessage(database, `${describe} (in another container or PID namespace) has it open and is alive`),
      );
    }
  }
}

function sharedMessage(database: string, who: string): string {
  return (
    `the database at ${database} is in use by another instance: ${who}. Two instances must never share ` +
    'one LMDB file (LMDB tells its users apart by PID, and in every container the service is PID 1): ' +
    'give each instance its own DB_PATH (the Swarm stack gives each task a volume of its own, ' +
    'Kubernetes each pod an emptyDir)'
  );
}

function readHolder(file: string): { holder: Holder; touchedMs: number } | undefined {
  try {
    const touchedMs = statSync(file).mtimeMs;
    const holder = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    if (typeof holder.instance !== 'string' || typeof holder.pidNamespace !== 'string') return undefined;
    if (typeof holder.pid !== 'number' || typeof holder.hostname !== 'string') return undefined;
    return { holder: holder as Holder, touchedMs };
  } catch {
    // Missing, or not a lease this service wrote (a half-written one included): nobody to wait for.
    return undefined;
  }
}

/** The PID namespace this process lives in; where there is no /proc, one namespace for all. */
function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return 'unknown';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
