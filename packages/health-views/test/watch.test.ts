// The watch hub alone, on a fake clock: bounded, heartbeats, a broken watcher dropped, a final event.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWatchHub } from '../src/watch.js';
import { FakeClock } from './helpers/fake-clock.js';

function sink() {
  const chunks: string[] = [];
  let ended = false;
  return {
    chunks,
    get ended() {
      return ended;
    },
    write: (chunk: string) => void chunks.push(chunk),
    end: () => {
      ended = true;
    },
  };
}

describe('watch hub', () => {
  it('writes the first chunk, then events, and a heartbeat comment each heartbeatMs', async () => {
    const clock = new FakeClock();
    const hub = createWatchHub({ clock, maxSubscribers: 2, heartbeatMs: 1000 });
    const watcher = sink();
    hub.subscribe(watcher, 'first');
    hub.broadcast('check', { a: 1 });
    await clock.advance(2000);
    const beat = ': heartbeat\n\n';
    assert.deepEqual(watcher.chunks, ['first', 'event: check\ndata: {"a":1}\n\n', beat, beat]);
  });

  it('refuses a watcher beyond maxSubscribers, and takes one again when a slot frees', () => {
    const hub = createWatchHub({ clock: new FakeClock(), maxSubscribers: 1, heartbeatMs: 1000 });
    const leave = hub.subscribe(sink(), 'x');
    assert.equal(hub.hasRoom, false);
    assert.equal(hub.subscribe(sink(), 'x'), undefined);
    leave!();
    assert.notEqual(hub.subscribe(sink(), 'x'), undefined);
  });

  it('drops a watcher whose write throws, and the others still get the event', () => {
    const hub = createWatchHub({ clock: new FakeClock(), maxSubscribers: 2, heartbeatMs: 1000 });
    hub.subscribe(
      {
        write: (chunk) => {
          if (chunk !== 'x') throw new Error('gone');
        },
        end: () => {},
      },
      'x',
    );
    const good = sink();
    hub.subscribe(good, 'x');
    hub.broadcast('view', {});
    assert.equal(hub.size, 1);
    assert.equal(good.chunks.length, 2);
  });

  it('close ends every stream with a final event and refuses new watchers', () => {
    const clock = new FakeClock();
    const hub = createWatchHub({ clock, maxSubscribers: 2, heartbeatMs: 1000 });
    const watcher = sink();
    hub.subscribe(watcher, 'x');
    hub.close({ reason: 'bye' });
    assert.equal(watcher.chunks.at(-1), 'event: close\ndata: {"reason":"bye"}\n\n');
    assert.equal(watcher.ended, true);
    assert.equal(hub.subscribe(sink(), 'x'), undefined);
    assert.equal(clock.pendingTimers(), 0, 'no heartbeat timer left behind');
  });
});
