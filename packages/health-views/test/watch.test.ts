// The watch hub alone, on a fake clock: bounded in watchers and in the bytes each may have
// waiting, heartbeats, a broken or stalled watcher dropped and reported, a final event.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWatchHub, sseEvent, type WatchHubOptions } from '../src/watch.js';
import { createHealth } from '../src/registry.js';
import type { HealthOptions, WatcherDropped } from '../src/types.js';
import { FakeClock } from './helpers/fake-clock.js';

/** A watcher whose peer takes every byte at once, or none once `stalled` (what it holds grows). */
function sink() {
  const chunks: string[] = [];
  const state = { chunks, ended: false, destroyed: false, stalled: false, queuedBytes: 0 };
  return Object.assign(state, {
    write: (chunk: string) => {
      chunks.push(chunk);
      if (state.stalled) state.queuedBytes += Buffer.byteLength(chunk);
    },
    end: () => {
      state.ended = true;
    },
    destroy: () => {
      state.destroyed = true;
      state.queuedBytes = 0;
    },
  });
}

function hub(options: Partial<WatchHubOptions> = {}) {
  return createWatchHub({
    clock: new FakeClock(),
    maxSubscribers: 2,
    heartbeatMs: 1000,
    maxQueuedBytes: 1000,
    ...options,
  });
}

describe('watch hub', () => {
  it('writes the first chunk, then events, and a heartbeat comment each heartbeatMs', async () => {
    const clock = new FakeClock();
    const hub = createWatchHub({ clock, maxSubscribers: 2, heartbeatMs: 1000, maxQueuedBytes: 1000 });
    const watcher = sink();
    hub.subscribe(watcher, 'first');
    hub.broadcast('check', { a: 1 });
    await clock.advance(2000);
    const beat = ': heartbeat\n\n';
    assert.deepEqual(watcher.chunks, ['first', 'event: check\ndata: {"a":1}\n\n', beat, beat]);
  });

  it('refuses a watcher beyond maxSubscribers, and takes one again when a slot frees', () => {
    const hub = createWatchHub({ clock: new FakeClock(), maxSubscribers: 1, heartbeatMs: 1000, maxQueuedBytes: 1000 });
    const leave = hub.subscribe(sink(), 'x');
    assert.equal(hub.hasRoom, false);
    assert.equal(hub.subscribe(sink(), 'x'), undefined);
    leave!();
    assert.notEqual(hub.subscribe(sink(), 'x'), undefined);
  });

  it('drops a watcher whose write throws, says so, and the others still get the event', () => {
    const watchers = hub();
    const dropped: WatcherDropped[] = [];
    watchers.onDropped((notice) => dropped.push(notice));
    const broken = sink();
    let tries = 0;
    broken.write = (chunk) => {
      if (chunk === 'x') return;
      tries += 1;
      throw new Error('gone');
    };
    watchers.subscribe(broken, 'x');
    const good = sink();
    watchers.subscribe(good, 'x');
    watchers.broadcast('view', {});
    watchers.broadcast('view', {});
    assert.equal(tries, 1, 'the dropped watcher was written to again');
    assert.equal(good.chunks.length, 3);
    assert.deepEqual(
      dropped.map(({ reason, watchers: left }) => ({ reason, left })),
      [{ reason: 'failed', left: 1 }],
    );
  });

  it('close ends every stream with a final event and refuses new watchers', () => {
    const clock = new FakeClock();
    const hub = createWatchHub({ clock, maxSubscribers: 2, heartbeatMs: 1000, maxQueuedBytes: 1000 });
    const watcher = sink();
    hub.subscribe(watcher, 'x');
    hub.close({ reason: 'bye' });
    assert.equal(watcher.chunks.at(-1), 'event: close\ndata: {"reason":"bye"}\n\n');
    assert.equal(watcher.ended, true);
    assert.equal(hub.subscribe(sink(), 'x'), undefined);
    assert.equal(clock.pendingTimers(), 0, 'no heartbeat timer left behind');
  });

  it('cuts off a watcher that stops reading once the next chunk would leave it more than maxQueuedBytes behind', () => {
    const watchers = hub({ maxQueuedBytes: 1000 });
    const dropped: WatcherDropped[] = [];
    watchers.onDropped((notice) => dropped.push(notice));
    const stalled = sink();
    const reader = sink();
    watchers.subscribe(stalled, 'x');
    watchers.subscribe(reader, 'x');
    stalled.stalled = true;
    const data = { text: 'y'.repeat(200) };
    const size = Buffer.byteLength(sseEvent('view', data)); // 231: four fit in 1000 bytes, not five
    for (let i = 0; i < 10; i += 1) watchers.broadcast('view', data);
    assert.equal(stalled.chunks.length, 1 + 4, 'four events fit in 1000 bytes, the fifth would not');
    assert.equal(stalled.destroyed, true, 'a dropped watcher is destroyed: what it held goes with it');
    assert.equal(stalled.ended, false);
    assert.equal(reader.chunks.length, 1 + 10, 'the watcher that reads gets every event');
    assert.equal(watchers.hasRoom, true, 'its slot is free again');
    assert.equal(dropped.length, 1, `expected one drop, got ${JSON.stringify(dropped)}`);
    const [notice] = dropped;
    assert.deepEqual(
      { ...notice, at: 'at' },
      { reason: 'behind', queuedBytes: 4 * size, maxQueuedBytes: 1000, watchers: 1, at: 'at' },
    );
    assert.match(notice!.at, /^\d{4}-\d\d-\d\dT/);
  });

  it('heartbeats count too, and a watcher with nothing waiting takes a chunk larger than the bound', async () => {
    const clock = new FakeClock();
    const watchers = hub({ clock, maxQueuedBytes: 20, heartbeatMs: 1000 });
    const stalled = sink();
    watchers.subscribe(stalled, 'x'.repeat(100));
    assert.equal(stalled.chunks.length, 1, 'the first chunk, five times the bound, was written');
    stalled.stalled = true;
    await clock.advance(3000);
    assert.deepEqual(stalled.chunks.slice(1), [': heartbeat\n\n'], 'the second heartbeat would pass 20 bytes');
    assert.equal(stalled.destroyed, true);
    assert.equal(clock.pendingTimers(), 0, 'a heartbeat is still armed with no watcher left');
  });

  it('close ends the watchers that keep up and destroys one too far behind to take the final event', () => {
    const watchers = hub({ maxQueuedBytes: 50 });
    const reader = sink();
    const stalled = sink();
    watchers.subscribe(reader, 'x');
    watchers.subscribe(stalled, 'x');
    stalled.queuedBytes = 40;
    watchers.close({ reason: 'bye' });
    assert.equal(reader.ended, true);
    assert.equal(stalled.ended, false);
    assert.equal(stalled.destroyed, true);
  });

  it('a drop listener that throws does not keep the others from hearing, nor the hub from going on', () => {
    const watchers = hub({ maxQueuedBytes: 10 });
    const heard: string[] = [];
    watchers.onDropped(() => {
      throw new Error('listener bug');
    });
    const leave = watchers.onDropped((notice) => heard.push(notice.reason));
    const stalled = sink();
    watchers.subscribe(stalled, 'x');
    stalled.queuedBytes = 10;
    watchers.broadcast('view', {});
    assert.deepEqual(heard, ['behind']);
    leave();
    const again = sink();
    watchers.subscribe(again, 'x');
    again.queuedBytes = 10;
    watchers.broadcast('view', {});
    assert.deepEqual(heard, ['behind'], 'an unsubscribed listener hears nothing');
  });
});

describe('watch options', () => {
  const base: HealthOptions = { checks: [{ name: 'up', kind: 'flag', initial: true }], views: [] };

  it('watch.maxQueuedBytes must be a number >= 1', () => {
    for (const maxQueuedBytes of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => createHealth({ ...base, watch: { maxQueuedBytes } }),
        /watch\.maxQueuedBytes must be a number >= 1/,
        String(maxQueuedBytes),
      );
    }
  });

  it('with no watch stream, onWatcherDropped still gives an unsubscribe function', () => {
    const health = createHealth({ ...base, watch: false });
    const leave = health.onWatcherDropped(() => {});
    assert.equal(typeof leave, 'function');
    leave();
  });
});
