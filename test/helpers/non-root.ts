// Runs the built service as a user other than root, as the image does (USER 65532), where file
// permissions apply: root ignores them, and the tests (and CI) often run as root.

import { chownSync } from 'node:fs';

/** The image's user (distroless "nonroot"). */
export const NON_ROOT_UID = 65532;

const isRoot = process.getuid?.() === 0;

/** The uid the service runs as under asNonRoot(). */
export const serviceUid: number = isRoot ? NON_ROOT_UID : (process.getuid?.() ?? NON_ROOT_UID);

/** A prefix for startServiceRaw: as root, setpriv drops to NON_ROOT_UID; as anyone else, nothing is needed. */
export function asNonRoot(): readonly string[] {
  return isRoot ? ['setpriv', `--reuid=${NON_ROOT_UID}`, `--regid=${NON_ROOT_UID}`, '--clear-groups', '--'] : [];
}

/** Gives the path to the user asNonRoot() runs as (a no-op when the tests do not run as root). */
export function giveToServiceUser(path: string): void {
  if (isRoot) chownSync(path, NON_ROOT_UID, NON_ROOT_UID);
}
