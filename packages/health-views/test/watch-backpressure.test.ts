// The issue's attack on the watch stream, through each adapter, in a child process with a small
// heap: 16 watchers that never read and one that does, while a flag flips 6000 times. Each
// stalled watcher is cut off once it has 64 KiB waiting (after the kernel's socket buffers are
// full), reported, and its slot and memory come back; the reader keeps its stream.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('fixtures/watch-flood.ts', import.meta.url));
/** The issue: under a 192 MB heap limit the process aborted; this one is far smaller. */
const HEAP_LIMIT_MB = 48;
const MB = 1024 * 1024;
const HEAP_PEAK_GROWTH_MAX = 24 * MB;
const HEAP_KEPT_MAX = 4 * MB;
/** The issue's figure was 59 -> 767 MB. */
const RSS_GROWTH_MAX = 64 * MB;
const STALLED = 16;

interface Flood {
  readonly floodMs: number;
  readonly dropped: readonly {
    reason: string;
    queuedBytes: number;
    maxQueuedBytes: number;
    watchers: number;
  }[];
  readonly readerBytes: number;
  readonly openConnections: number;
  readonly freshStatus: number;
  readonly heapUsed: { before: number; peak: number; after: number };
  readonly rss: { before: number; peak: number; after: number };
}

async function flood(adapter: string): Promise<Flood> {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // the child is a program, not a test file
  const args = ['--import', 'tsx', '--expose-gc', `--max-old-space-size=${HEAP_LIMIT_MB}`, FIXTURE, adapter];
  const child = spawn(process.execPath, args, { cwd: PACKAGE_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => void (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  const tail = stderr.split('\n').slice(0, 12).join('\n');
  assert.ok(
    code === 0 && signal === null,
    `expected the flooded process to finish with exit 0, got ${signal ?? `exit ${code}`}; its stderr:\n${tail}`,
  );
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Flood;
}

const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;

describe('watch stream backpressure', () => {
  for (const adapter of ['node-http', 'fastify']) {
    it(`${adapter}: 16 watchers that never read are cut off at 64 KiB waiting; memory and slots come back`, async (t) => {
      const seen = await flood(adapter);
      const { heapUsed: heap, rss } = seen;
      t.diagnostic(
        `${adapter}: flood ${seen.floodMs} ms; heap ${mb(heap.before)} -> peak ${mb(heap.peak)} -> ${mb(heap.after)} ` +
          `after; RSS ${mb(rss.before)} -> peak ${mb(rss.peak)}; dropped ${seen.dropped.length}; ` +
          `reader read ${mb(seen.readerBytes)}`,
      );
      const reasons = seen.dropped.map((drop) => drop.reason);
      assert.deepEqual(
        reasons,
        Array(STALLED).fill('behind'),
        `expected 16 drops for being behind, got ${reasons.join(', ')}`,
      );
      for (const drop of seen.dropped) {
        assert.equal(drop.maxQueuedBytes, 64 * 1024, 'the default bound');
        assert.ok(drop.queuedBytes <= drop.maxQueuedBytes, `a watcher held ${drop.queuedBytes} bytes`);
      }
      assert.equal(seen.dropped.at(-1)?.watchers, 1, 'the watcher that reads keeps its stream');
      assert.equal(seen.openConnections, 1, "expected only the reader's connection left open (dropped ones closed)");
      assert.ok(seen.readerBytes > 1 * MB, `expected the reader to get the events, it got ${seen.readerBytes} bytes`);
      assert.equal(seen.freshStatus, 200, 'a new watcher finds a free slot once the stalled ones are gone');
      const growth = heap.peak - heap.before;
      assert.ok(
        growth <= HEAP_PEAK_GROWTH_MAX,
        `expected heap growth <= ${mb(HEAP_PEAK_GROWTH_MAX)}, got ${mb(growth)}`,
      );
      const kept = heap.after - heap.before;
      assert.ok(kept <= HEAP_KEPT_MAX, `expected <= ${mb(HEAP_KEPT_MAX)} of heap kept after, got ${mb(kept)}`);
      const rssGrowth = rss.peak - rss.before;
      assert.ok(rssGrowth <= RSS_GROWTH_MAX, `expected RSS growth <= ${mb(RSS_GROWTH_MAX)}, got ${mb(rssGrowth)}`);
    });
  }
});
