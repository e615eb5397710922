import { describe, expect, it, vi } from 'vitest';
import type { StoredEvent } from '../../src/index.js';
import { LiveFollower, type FollowedLog, type LogRewrites } from '../../src/store/liveFollower.js';

/** A log in memory another party appends to, woken by hand: what a database store with LISTEN/NOTIFY would give the follower. */
function memoryLog(): { log: FollowedLog; append: (stream: string) => void; wake: () => void; watchers: () => number; reads: () => number } {
  const events: StoredEvent[] = [];
  const wakers = new Set<() => void>();
  let reads = 0;
  const log: FollowedLog = {
    async *readFrom(fromPosition) {
      reads++;
      // What was there when the read started (as a query sees it), two at a time with a wait
      // between: appends and wake-ups may come in the middle of a read.
      const head = events.length;
      for (let p = fromPosition; p <= head; p += 2) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield events.slice(p - 1, Math.min(p + 1, head));
      }
    },
    headPosition: async () => events.length,
    watch(wake) {
      wakers.add(wake);
      return () => wakers.delete(wake);
    },
  };
  const append = (stream: string): void => {
    const position = events.length + 1;
    events.push({ position, stream, version: position, id: `e${position}`, type: 'TaskAdded', schemaVersion: 1, meta: { at: '', agent: 'a' }, data: {} } as unknown as StoredEvent);
  };
  return { log, append, wake: () => [...wakers].forEach((w) => w()), watchers: () => wakers.size, reads: () => reads };
}

describe('LiveFollower', () => {
  it('catches up, then delivers what each wake-up finds, each event once and in order, filtered by stream', async () => {
    const { log, append, wake } = memoryLog();
    for (const stream of ['a', 'b', 'a']) append(stream);
    const follower = new LiveFollower(log);
    const all: number[] = [];
    const onlyB: number[] = [];
    const fromTwo: number[] = [];
    follower.follow().subscribe((e) => all.push(e.position));
    follower.follow({ stream: 'b' }).subscribe((e) => onlyB.push(e.position));
    follower.follow({ fromPosition: 2 }).subscribe((e) => fromTwo.push(e.position));
    await vi.waitFor(() => expect(all).toEqual([1, 2, 3]));
    for (const stream of ['b', 'a', 'b']) {
      append(stream);
      wake();
      wake(); // a second wake-up while the first one's read is under way changes nothing
    }
    await vi.waitFor(() => expect(all).toEqual([1, 2, 3, 4, 5, 6]));
    await vi.waitFor(() => expect(fromTwo).toEqual([2, 3, 4, 5, 6]));
    await vi.waitFor(() => expect(onlyB).toEqual([2, 4, 6]));
  });

  it('from the end delivers only what is appended after it subscribed', async () => {
    const { log, append, wake } = memoryLog();
    append('a');
    const seen: number[] = [];
    new LiveFollower(log).follow({ fromPosition: 'end' }).subscribe((e) => seen.push(e.position));
    await new Promise((resolve) => setTimeout(resolve, 10));
    append('a');
    wake();
    await vi.waitFor(() => expect(seen).toEqual([2]));
  });

  it('reads again after a wake-up that came while it was reading, so no append is missed', async () => {
    const { log, append, wake, reads } = memoryLog();
    for (let i = 0; i < 10; i++) append('a');
    const seen: number[] = [];
    new LiveFollower(log).follow().subscribe((e) => seen.push(e.position));
    await vi.waitFor(() => expect(reads()).toBe(1));
    append('a'); // during the catch-up, after its read passed the head it started from: only the wake-up tells
    wake();
    await vi.waitFor(() => expect(seen).toEqual(Array.from({ length: 11 }, (_, i) => i + 1)));
  });

  it('stops watching when unsubscribed, and completes every subscription on completeAll', async () => {
    const { log, watchers } = memoryLog();
    const follower = new LiveFollower(log);
    const dropped = follower.follow().subscribe();
    let completed = 0;
    follower.follow().subscribe({ complete: () => completed++ });
    follower.follow({ fromPosition: 'end' }).subscribe({ complete: () => completed++ });
    expect(watchers()).toBe(3);
    dropped.unsubscribe();
    expect(watchers()).toBe(2);
    follower.completeAll();
    expect(completed).toBe(2);
    expect(watchers()).toBe(0);
  });

  it('stops a subscription with the log\'s error when events it delivered were replaced, and reads the replacement otherwise', async () => {
    const { log, append, wake } = memoryLog();
    const rewrites: LogRewrites = {
      count: 0,
      from: 0,
      isRewriteError: () => false,
      deliveredRewritten: (from, delivered) => new Error(`replaced from ${from}, delivered up to ${delivered}`),
    };
    const rewritable: FollowedLog = { ...log, rewrites };
    append('a');
    append('b');
    const all: number[] = [];
    let failure: Error | undefined;
    const follower = new LiveFollower(rewritable);
    follower.follow().subscribe({ next: (e) => all.push(e.position), error: (e: Error) => (failure = e) });
    const onlyC: number[] = [];
    follower.follow({ stream: 'c' }).subscribe((e) => onlyC.push(e.position));
    await vi.waitFor(() => expect(all).toEqual([1, 2]));
    Object.assign(rewrites, { count: 1, from: 2 }); // position 2 replaced
    append('c');
    wake();
    await vi.waitFor(() => expect(failure?.message).toBe('replaced from 2, delivered up to 2'));
    await vi.waitFor(() => expect(onlyC).toEqual([3]));
    expect(all).toEqual([1, 2]);
  });

  it('refuses a start position that is not a whole number', () => {
    const { log } = memoryLog();
    expect(() => new LiveFollower(log).follow({ fromPosition: 1.5 })).toThrow(/fromPosition/);
  });
});
