// Checks the files of an LMDB environment before lmdb maps them. LMDB trusts its file: a damaged one
// (random bytes, truncated, zeroed meta pages, overwritten pages) kills the process with SIGSEGV or
// SIGBUS and no message, so the service would restart in a loop nobody can explain. No maintained
// package checks an LMDB file from JavaScript, hence this reader of the on-disk format of the LMDB
// that lmdb-js builds (node_modules/lmdb/dependencies/lmdb/libraries/liblmdb/mdb.c: MDB_page_header,
// MDB_meta, MDB_db, MDB_node). It reads every page the newest snapshot can reach, one page at a time:
// one read of the file, no memory that grows with it beyond a bit per page.

import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

/** What is wrong, and with which file: the data file or its lock file. */
export interface LmdbDamage {
  readonly file: string;
  readonly kind: 'data file' | 'lock file';
  readonly problem: string;
}

/** lmdb-js opens a path with an extension as one file (MDB_NOSUBDIR); its lock file sits beside it. */
export function lockFileOf(dataFile: string): string {
  return `${dataFile}-lock`;
}

// MDB_page_header: pgno u64, txnid u64, pad u16, flags u16, lower u16, upper u16 (or pages u32).
const PAGE_HEADER_SIZE = 24;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const P_META = 0x08;
const P_LEAF2 = 0x20;
// MDB_meta, right after the page header.
const MDB_MAGIC = 0xbeefc0de;
const MDB_DATA_VERSION = 2;
const META_MAGIC = PAGE_HEADER_SIZE;
const META_VERSION = PAGE_HEADER_SIZE + 4;
const META_DBS = PAGE_HEADER_SIZE + 24;
const MDB_DB_SIZE = 48;
const MDB_DB_ROOT = 40;
const META_PAGE_SIZE = META_DBS; // mm_psize is mm_dbs[FREE_DBI].md_pad
const META_LAST_PAGE = META_DBS + 2 * MDB_DB_SIZE;
const META_TXNID = META_LAST_PAGE + 8;
const P_INVALID = 0xffff_ffff_ffff_ffffn;
// MDB_node: lo u16, hi u16, flags u16, ksize u16, then the key and the data.
const NODE_SIZE = 8;
const F_BIGDATA = 0x01;
const F_SUBDATA = 0x02;
const MIN_PAGE_SIZE = 512;
const MAX_PAGE_SIZE = 0x10000;

interface Meta {
  readonly pageSize: number;
  readonly lastPage: number;
  readonly txnid: bigint;
  readonly roots: readonly bigint[];
}

/**
 * The first problem found with the data file and its lock file, or undefined when both look like an
 * LMDB environment (or do not exist yet: lmdb creates them).
 */
export function inspectLmdbFiles(dataFile: string): LmdbDamage | undefined {
  const lockFile = lockFileOf(dataFile);
  const lockStat = statIfExists(lockFile);
  if (lockStat !== undefined && !lockStat.isFile()) {
    return { file: lockFile, kind: 'lock file', problem: `it is ${kindOf(lockStat)}, not a regular file` };
  }
  const dataStat = statIfExists(dataFile);
  if (dataStat === undefined) return undefined;
  if (!dataStat.isFile()) {
    return { file: dataFile, kind: 'data file', problem: `it is ${kindOf(dataStat)}, not a regular file` };
  }
  if (dataStat.size === 0) return undefined; // lmdb writes a new environment into an empty file
  const fd = openSync(dataFile, 'r');
  try {
    const problem = new PageReader(fd).inspect();
    return problem === undefined ? undefined : { file: dataFile, kind: 'data file', problem };
  } finally {
    closeSync(fd);
  }
}

class PageReader {
  private pageSize = 0;
  private size = 0;
  private readonly chunks = new Map<number, Buffer>();

  constructor(private readonly fd: number) {}

  inspect(): string | undefined {
    const first = this.read(0, MAX_PAGE_SIZE);
    const meta0 = readMeta(first, 0);
    if (typeof meta0 === 'string') return `it is not an LMDB database, or its meta page 0 is damaged: it ${meta0}`;
    this.pageSize = meta0.pageSize;
    // The size is taken after the meta pages are read: lmdb writes the pages of a commit before its
    // meta page, so even while another process commits, the file is at least as long as they say.
    this.size = fstatSync(this.fd).size;
    if (this.size < 2 * this.pageSize) {
      return `it is truncated: ${this.size} bytes, shorter than its two meta pages of ${this.pageSize} bytes`;
    }
    const meta1 = readMeta(this.read(this.pageSize, this.pageSize), 1);
    if (typeof meta1 === 'string') return `its meta page 1 is damaged: it ${meta1}`;
    if (meta1.pageSize !== meta0.pageSize) {
      return `its meta pages disagree on the page size (${meta0.pageSize} and ${meta1.pageSize} bytes)`;
    }
    const pages = Math.floor(this.size / this.pageSize);
    for (const [index, meta] of [meta0, meta1].entries()) {
      if (meta.lastPage >= pages) {
        return (
          `it is truncated: ${this.size} bytes, but meta page ${index} says the data goes on to page ` +
          `${meta.lastPage} (${(meta.lastPage + 1) * this.pageSize} bytes)`
        );
      }
    }
    // The snapshot lmdb opens: the meta page with the higher transaction id.
    const newest = meta1.txnid > meta0.txnid ? meta1 : meta0;
    return this.walk(newest);
  }

  /** Visits every page the snapshot reaches: each must be where it says it is, and reached once. */
  private walk(meta: Meta): string | undefined {
    const seen = new Uint8Array(Math.ceil((meta.lastPage + 1) / 8));
    const pending: bigint[] = meta.roots.filter((root) => root !== P_INVALID);
    while (pending.length > 0) {
      const pgno = pending.pop()!;
      const where = `page ${pgno}`;
      if (pgno < 2n || pgno > BigInt(meta.lastPage)) {
        return `a reference to ${where} points outside its pages 2 to ${meta.lastPage}`;
      }
      const n = Number(pgno);
      if ((seen[n >> 3]! & (1 << (n & 7))) !== 0) return `${where} is reached twice: its page tree is damaged`;
      seen[n >> 3]! |= 1 << (n & 7);
      const page = this.read(n * this.pageSize, this.pageSize);
      const problem = this.inspectPage(page, pgno, meta, pending, seen);
      if (problem !== undefined) return `${where} ${problem}`;
    }
    return undefined;
  }

  private inspectPage(page: Buffer, pgno: bigint, meta: Meta, pending: bigint[], seen: Uint8Array): string | undefined {
    if (page.readBigUInt64LE(0) !== pgno) return `is damaged: it says it is page ${page.readBigUInt64LE(0)}`;
    const flags = page.readUInt16LE(18);
    const kind = flags & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META);
    if (kind !== P_BRANCH && kind !== P_LEAF) {
      return `is damaged: flags 0x${flags.toString(16)} are not a branch or leaf page`;
    }
    if ((flags & P_LEAF2) !== 0) return undefined; // fixed-size duplicates: no nodes to follow
    const lower = page.readUInt16LE(20);
    const upper = page.readUInt16LE(22);
    if (lower % 2 !== 0 || lower > upper || PAGE_HEADER_SIZE + upper > this.pageSize) {
      return `is damaged: its free space bounds (${lower}, ${upper}) do not fit a ${this.pageSize}-byte page`;
    }
    for (let i = 0; i < lower / 2; i++) {
      const offset = PAGE_HEADER_SIZE + page.readUInt16LE(PAGE_HEADER_SIZE + 2 * i);
      if (offset < PAGE_HEADER_SIZE + upper || offset + NODE_SIZE > this.pageSize) {
        return `is damaged: node ${i} is outside the page`;
      }
      const lo = page.readUInt16LE(offset);
      const hi = page.readUInt16LE(offset + 2);
      const nodeFlags = page.readUInt16LE(offset + 4);
      const keySize = page.readUInt16LE(offset + 6);
      const data = offset + NODE_SIZE + keySize;
      if (kind === P_BRANCH) {
        if (data > this.pageSize) return `is damaged: node ${i} is outside the page`;
        pending.push(BigInt(lo) | (BigInt(hi) << 16n) | (BigInt(nodeFlags) << 32n));
        continue;
      }
      const dataSize = lo | (hi << 16);
      const stored = (nodeFlags & F_BIGDATA) !== 0 ? 8 : dataSize;
      if (data + stored > this.pageSize) return `is damaged: node ${i} is outside the page`;
      if ((nodeFlags & F_BIGDATA) !== 0) {
        const problem = this.inspectOverflow(page.readBigUInt64LE(data), dataSize, meta, seen);
        if (problem !== undefined) return problem;
      } else if ((nodeFlags & F_SUBDATA) !== 0 && dataSize >= MDB_DB_SIZE) {
        const root = page.readBigUInt64LE(data + MDB_DB_ROOT);
        if (root !== P_INVALID) pending.push(root);
      }
    }
    return undefined;
  }

  /** A value too big for its leaf lives in a run of overflow pages, marked in the first one. */
  private inspectOverflow(pgno: bigint, dataSize: number, meta: Meta, seen: Uint8Array): string | undefined {
    const needed = Math.floor((PAGE_HEADER_SIZE - 1 + dataSize) / this.pageSize) + 1;
    if (pgno < 2n || pgno + BigInt(needed) - 1n > BigInt(meta.lastPage)) {
      return `holds a value on overflow page ${pgno}, outside its pages 2 to ${meta.lastPage}`;
    }
    const page = this.read(Number(pgno) * this.pageSize, PAGE_HEADER_SIZE);
    const pages = page.readUInt32LE(20);
    if (page.readBigUInt64LE(0) !== pgno || (page.readUInt16LE(18) & P_OVERFLOW) === 0 || pages < needed) {
      return `holds a value on overflow page ${pgno}, which is damaged`;
    }
    for (let n = Number(pgno); n < Number(pgno) + needed; n++) {
      if ((seen[n >> 3]! & (1 << (n & 7))) !== 0) return `holds a value on page ${n}, which is reached twice`;
      seen[n >> 3]! |= 1 << (n & 7);
    }
    return undefined;
  }

  /** Reads through a few cached chunks: one read per chunk instead of one per page. */
  private read(position: number, length: number): Buffer {
    const index = Math.floor(position / CHUNK_SIZE);
    let chunk = this.chunks.get(index);
    if (chunk === undefined) {
      // The oldest chunk's memory is reused: a walk of a large file allocates no more than the cache.
      let memory: Buffer;
      if (this.chunks.size >= CACHED_CHUNKS) {
        const [oldest, evicted] = this.chunks.entries().next().value!;
        this.chunks.delete(oldest);
        memory = Buffer.from(evicted.buffer, evicted.byteOffset, CHUNK_SIZE);
      } else {
        memory = Buffer.alloc(CHUNK_SIZE);
      }
      chunk = memory.subarray(0, readSync(this.fd, memory, 0, CHUNK_SIZE, index * CHUNK_SIZE));
      this.chunks.set(index, chunk);
    }
    const start = position - index * CHUNK_SIZE;
    return chunk.subarray(start, start + length);
  }
}

// A chunk holds whole pages of any page size (up to 64 KiB); the cache holds 1 MiB at most.
const CHUNK_SIZE = 256 * 1024;
const CACHED_CHUNKS = 4;

/** The meta page's fields, or what is wrong with it. */
function readMeta(page: Buffer, pgno: number): Meta | string {
  if (page.length < META_TXNID + 8) return `is cut short (the file has ${page.length} bytes)`;
  if ((page.readUInt16LE(18) & P_META) === 0 || page.readBigUInt64LE(0) !== BigInt(pgno)) return 'is not a meta page';
  const magic = page.readUInt32LE(META_MAGIC);
  if (magic !== MDB_MAGIC) {
    return `has the magic number 0x${magic.toString(16)}, not LMDB's 0x${MDB_MAGIC.toString(16)}`;
  }
  const version = page.readUInt32LE(META_VERSION) & 0xffff;
  if (version !== MDB_DATA_VERSION) return `has data format version ${version}, not ${MDB_DATA_VERSION}`;
  const pageSize = page.readUInt32LE(META_PAGE_SIZE);
  if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE || (pageSize & (pageSize - 1)) !== 0) {
    return `gives an impossible page size of ${pageSize} bytes`;
  }
  const lastPage = page.readBigUInt64LE(META_LAST_PAGE);
  if (lastPage < 1n || lastPage > BigInt(Number.MAX_SAFE_INTEGER)) return `gives an impossible last page ${lastPage}`;
  return {
    pageSize,
    lastPage: Number(lastPage),
    txnid: page.readBigUInt64LE(META_TXNID),
    roots: [0, 1].map((db) => page.readBigUInt64LE(META_DBS + db * MDB_DB_SIZE + MDB_DB_ROOT)),
  };
}

function statIfExists(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** What a file that is not a regular one is, for a message ("it is a named pipe"). */
export function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  return 'a device';
}
