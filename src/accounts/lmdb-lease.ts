// Refuses to open an LMDB file that another running instance has open. LMDB tells the processes
// sharing an environment apart by PID, and in every container the service is PID 1: two
// containers on one file (a volume both mount) take each other's reader slots and fail with
// errors such as "No transaction to renew". LMDB's own locks cannot be seen across containers
// (/proc/locks hides other PID namespaces' locks), so the instance that has the file open says so
// in a lease file beside it, touched on a heartbeat. A lease is judged by that heartbeat: one
// untouched for longer than a few heartbeats is stale whoever holds its pid now (pids are reused).
// Best effort: two instances that start in the same instant can both miss each other; the
// deployment shapes (a fresh volume or emptyDir per task) are what make sharing impossible, this
// only explains a shape that does not.

import { randomUUID } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readSync, readlinkSync } from 'node:fs';
import { rm, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreOpenError } from './lmdb-account-store.js';
import { kindOf } from './lmdb-preflight.js';

/** Another running instance has the database open: the message names the file and the holder. */
export class SharedDatabaseError extends Error {
  override readonly name = 'SharedDatabaseError';
}

/** How often the holder touches the lease. */
const HEARTBEAT_MS = 1000;
/** A lease untouched for longer is left by an instance that is gone. */
const STALE_MS = 3 * HEARTBEAT_MS;

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
export async function acquireLease(path: string): Promise<Lease> {
  const file = `${resolve(path)}.lease`;
  // No directory: nothing to share, and opening the store reports the missing directory itself.
  if (!existsSync(dirname(file))) return { release: async () => {} };

  assertNoOtherKindOfFile(file);
  const me: Holder = { instance: randomUUID(), pidNamespace: pidNamespace(), pid: process.pid, hostname: hostname() };
  const held = readHolder(file);
  if (held !== undefined) await assertGone(file, held.holder, held.touchedMs, me, STALE_MS, HEARTBEAT_MS);

  try {
    await writeFile(file, JSON.stringify(me));
  } catch {
    // A directory the service cannot write to: opening the store fails next with its own message,
    // unless both database files already exist and are writable (then it runs without a lease).
    return { release: async () => {} };
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => {}); // a missing lease is rewritten by no one: best effort
  }, HEARTBEAT_MS);
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
  const sameNamespace = holder.pidNamespace === me.pidNamespace;
  // A pid of this namespace that is free (or is this process) means the holder is gone for sure.
  if (sameNamespace && (holder.pid === me.pid || !isAlive(holder.pid))) return;
  // A live pid here may belong to another process by now, and another namespace's (another
  // container's) cannot be checked from here: the heartbeat decides in both cases.
  if (!(await touchedWhileWatched(file, holder, touchedMs, staleMs, heartbeatMs))) return;
  const database = file.slice(0, -'.lease'.length);
  const where = sameNamespace ? 'a process on this machine' : 'in another container or PID namespace';
  const who = `pid ${holder.pid} on ${holder.hostname} (${where}) has it open and is alive`;
  throw new SharedDatabaseError(sharedMessage(database, who));
}

/**
 * Whether the holder touches its lease: watched for longer than it may go untouched, so a live
 * holder touches it meanwhile. A lease already untouched for that long is stale at once.
 */
async function touchedWhileWatched(
  file: string,
  holder: Holder,
  touchedMs: number,
  staleMs: number,
  heartbeatMs: number,
): Promise<boolean> {
  const deadline = Date.now() + staleMs + heartbeatMs;
  while (Date.now() - touchedMs <= staleMs && Date.now() <= deadline) {
    await sleep(Math.max(10, Math.min(heartbeatMs / 4, 250)));
    const now = readHolder(file);
    if (now === undefined) return false;
    if (now.holder.instance === holder.instance && now.touchedMs > touchedMs) return true;
  }
  return false;
}

/**
 * A lease path that is not a regular file is no lease this service wrote, and could not be one:
 * a directory, a named pipe (reading it would block the start) or a link. Said, not skipped.
 */
function assertNoOtherKindOfFile(file: string): void {
  let stat;
  try {
    stat = lstatSync(file);
  } catch {
    return; // none yet, or unreadable: writing it says more
  }
  if (stat.isFile()) return;
  const database = file.slice(0, -'.lease'.length);
  throw new StoreOpenError(
    `cannot open the database at ${database}: its lease file ${file} is ${kindOf(stat)}, not a regular file ` +
      '(the service keeps a lease there while it has the database open): remove it',
  );
}

function sharedMessage(database: string, who: string): string {
  return (
    `the database at ${database} is in use by another instance: ${who}. Two instances must never share ` +
    'one LMDB file (LMDB tells its users apart by PID, and in every container the service is PID 1): ' +
    'give each instance its own DB_PATH (the Swarm stack gives each task a volume of its own, ' +
    'Kubernetes each pod an emptyDir)'
  );
}

/** A lease is a line of JSON: a file larger than this is not one, and is not read. */
const MAX_LEASE_BYTES = 4096;

function readHolder(file: string): { holder: Holder; touchedMs: number } | undefined {
  try {
    // O_NONBLOCK: should a named pipe appear here after the check above, opening it does not wait.
    const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    let text: string;
    let touchedMs: number;
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile() || stat.size > MAX_LEASE_BYTES) return undefined;
      const bytes = Buffer.alloc(stat.size);
      text = bytes.toString('utf8', 0, readSync(fd, bytes, 0, stat.size, 0));
      touchedMs = stat.mtimeMs;
    } finally {
      closeSync(fd);
    }
    const holder = JSON.parse(text) as Partial<Holder>;
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
