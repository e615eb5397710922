import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewEvent, StoredEvent } from '../events/envelope.js';
import { isExpectedVersionConflictError, isInvalidEventError } from '../errors.js';
import type { EventStore } from '../store/eventStore.js';

/** How the contract suite gets a store to test. */
export interface EventStoreContractFactory {
  /** A new, empty store. Called once per test. */
  create(): Promise<EventStore>;
  /**
   * Close `store` and open the same log again, for stores that persist.
   * Leave it out for stores that do not (the memory store).
   */
  reopen?(store: EventStore): Promise<EventStore>;
}

let counter = 0;
/** A valid `TaskAdded` event, for store tests that need many events. */
export function sampleEvent(taskId = `t${++counter}`, title = `Task ${taskId}`): NewEvent {
  return {
    id: `evt-${++counter}`,
    type: 'TaskAdded',
    data: { taskId, title },
    meta: { at: '2026-01-01T00:00:00.000Z', agent: 'tester' },
  };
}

async function collect(iterable: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

/**
 * The contract every {@link EventStore} meets. Call it inside a vitest file:
 *
 * @example
 * describeEventStoreContract('memory store', { create: async () => createMemoryEventStore() });
 */
export function describeEventStoreContract(name: string, factory: EventStoreContractFactory): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    const open: EventStore[] = [];
    const create = async (): Promise<EventStore> => {
      const created = await factory.create();
      open.push(created);
      return created;
    };

    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    it('appends events to a stream with versions from 1 and reads them back in order', async () => {
      store = await create();
      const first = await store.append('session-a', [sampleEvent('t1'), sampleEvent('t2')]);
      expect(first.nextExpectedVersion).toBe(2);
      expect(first.events.map((e) => e.version)).toEqual([1, 2]);
      const read = await collect(store.readStream('session-a'));
      expect(read.map((e) => [e.version, e.type, (e.data as { taskId: string }).taskId])).toEqual([
        [1, 'TaskAdded', 't1'],
        [2, 'TaskAdded', 't2'],
      ]);
      expect(read[0]!.meta).toEqual({ at: '2026-01-01T00:00:00.000Z', agent: 'tester' });
      expect(read[0]!.schemaVersion).toBe(1);
    });

    it('gives every event a position that orders the whole store', async () => {
      store = await create();
      await store.append('session-a', [sampleEvent()]);
      await store.append('session-b', [sampleEvent(), sampleEvent()]);
      await store.append('session-a', [sampleEvent()]);
      const all = await collect(store.readAll());
      expect(all.map((e) => [e.position, e.stream, e.version])).toEqual([
        [1, 'session-a', 1],
        [2, 'session-b', 1],
        [3, 'session-b', 2],
        [4, 'session-a', 2],
      ]);
      expect(await store.headPosition()).toBe(4);
    });

    it('reads a range of versions and a range of positions', async () => {
      store = await create();
      await store.append('session-a', [1, 2, 3, 4, 5].map((n) => sampleEvent(`t${n}`)));
      const versions = await collect(store.readStream('session-a', { fromVersion: 2, toVersion: 4 }));
      expect(versions.map((e) => e.version)).toEqual([2, 3, 4]);
      const positions = await collect(store.readAll({ fromPosition: 4 }));
      expect(positions.map((e) => e.position)).toEqual([4, 5]);
      const bounded = await collect(store.readAll({ fromPosition: 2, toPosition: 3 }));
      expect(bounded.map((e) => e.position)).toEqual([2, 3]);
    });

    it('hands over the same events in batches as one by one', async () => {
      store = await create();
      for (let i = 0; i < 30; i++) await store.append(`session-${i % 4}`, [sampleEvent(), sampleEvent()]);
      const flat: StoredEvent[] = [];
      for await (const batch of store.readAllBatches({ fromPosition: 7, toPosition: 55 })) flat.push(...batch);
      expect(flat.map((e) => e.position)).toEqual(Array.from({ length: 49 }, (_, i) => i + 7));
      expect(flat).toEqual(await collect(store.readAll({ fromPosition: 7, toPosition: 55 })));
    });

    it('takes an empty append as a no-op that still checks the expected version', async () => {
      store = await create();
      await store.append('session-a', [sampleEvent()]);
      expect(await store.append('session-a', [], { expectedVersion: 1 })).toEqual({ stream: 'session-a', nextExpectedVersion: 1, events: [] });
      await expect(store.append('session-a', [], { expectedVersion: 0 })).rejects.toThrow(/is at version 1/);
      await store.append('session-a', [sampleEvent()], { expectedVersion: 1 });
      expect(await store.headPosition()).toBe(2);
    });

    it('reads nothing from a stream that does not exist', async () => {
      store = await create();
      expect(await collect(store.readStream('session-none'))).toEqual([]);
      expect(await store.streamVersion('session-none')).toBe(0);
    });

    it('lists streams with their versions and positions', async () => {
      store = await create();
      await store.append('session-a', [sampleEvent()]);
      await store.append('session-b', [sampleEvent()]);
      await store.append('session-a', [sampleEvent()]);
      expect(await store.listStreams()).toEqual([
        { stream: 'session-a', version: 2, firstPosition: 1, lastPosition: 3 },
        { stream: 'session-b', version: 1, firstPosition: 2, lastPosition: 2 },
      ]);
    });

    it('accepts an append whose expected version matches', async () => {
      store = await create();
      await store.append('session-a', [sampleEvent()], { expectedVersion: 'no_stream' });
      await store.append('session-a', [sampleEvent()], { expectedVersion: 1 });
      await store.append('session-a', [sampleEvent()], { expectedVersion: 'stream_exists' });
      expect(await store.streamVersion('session-a')).toBe(3);
    });

    it('refuses an append whose expected version is stale, and stores nothing of it', async () => {
      store = await create();
      await store.append('session-a', [sampleEvent(), sampleEvent()]);
      const error = await store.append('session-a', [sampleEvent()], { expectedVersion: 1 }).catch((e: unknown) => e);
      expect(isExpectedVersionConflictError(error)).toBe(true);
      expect((error as Error).message).toContain('session-a is at version 2');
      await expect(store.append('session-a', [sampleEvent()], { expectedVersion: 'no_stream' })).rejects.toThrow(
        /expected no_stream/,
      );
      await expect(store.append('session-new', [sampleEvent()], { expectedVersion: 'stream_exists' })).rejects.toThrow(
        /expected stream_exists/,
      );
      expect(await store.streamVersion('session-a')).toBe(2);
      expect(await store.headPosition()).toBe(2);
    });

    it('lets exactly one of two concurrent appends with the same expected version win', async () => {
      store = await create();
      await store.append('session-a', [sampleEvent()]);
      const results = await Promise.allSettled([
        store.append('session-a', [sampleEvent('x')], { expectedVersion: 1 }),
        store.append('session-a', [sampleEvent('y')], { expectedVersion: 1 }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(isExpectedVersionConflictError((rejected[0] as PromiseRejectedResult).reason)).toBe(true);
      expect(await store.streamVersion('session-a')).toBe(2);
    });

    it('stores all events of many concurrent appenders with unique, gapless positions', async () => {
      store = await create();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (async () => {
            for (let n = 0; n < 5; n++) await store.append(`session-${i}`, [sampleEvent()]);
          })(),
        ),
      );
      const all = await collect(store.readAll());
      expect(all.map((e) => e.position)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      for (let i = 0; i < 20; i++) expect(await store.streamVersion(`session-${i}`)).toBe(5);
    });

    it('refuses a batch with one invalid event and stores none of the batch', async () => {
      store = await create();
      const bad = { ...sampleEvent(), data: { taskId: 't1' } } as unknown as NewEvent;
      const error = await store.append('session-a', [sampleEvent(), bad]).catch((e: unknown) => e);
      expect(isInvalidEventError(error)).toBe(true);
      expect((error as Error).message).toMatch(/event 2 of the append.*data[./]title/);
      const unknown = { ...sampleEvent(), type: 'TaskExploded' } as unknown as NewEvent;
      await expect(store.append('session-a', [unknown])).rejects.toThrow(/unknown event type "TaskExploded"/);
      await expect(store.append('bad stream/name', [sampleEvent()])).rejects.toThrow(/stream name/);
      expect(await store.headPosition()).toBe(0);
    });

    it('takes ownership of appended events: they are frozen, and what it stored never changes', async () => {
      store = await create();
      const event = sampleEvent('t1', 'original');
      const result = await store.append('session-a', [event]);
      expect(() => {
        (event.data as { title: string }).title = 'changed';
      }).toThrow(TypeError);
      expect(() => {
        (result.events[0]!.data as { title: string }).title = 'changed';
      }).toThrow(TypeError);
      const [read] = await collect(store.readStream('session-a'));
      expect((read!.data as { title: string }).title).toBe('original');
      // A reader's copy may be frozen (shared) or its own; changing it never changes the store.
      try {
        (read!.data as { title: string }).title = 'changed';
      } catch {
        // frozen
      }
      const [again] = await collect(store.readStream('session-a'));
      expect((again!.data as { title: string }).title).toBe('original');
    });

    it('subscribes: catches up on stored events, then follows live appends, each once', async () => {
      store = await create();
      await store.append('session-a', [sampleEvent(), sampleEvent()]);
      const received = firstValueFrom(store.subscribe().pipe(take(4), toArray()));
      await store.append('session-b', [sampleEvent()]);
      await store.append('session-a', [sampleEvent()]);
      const events = await received;
      expect(events.map((e) => e.position)).toEqual([1, 2, 3, 4]);
    });

    it('subscribes to one stream from a position, or to live appends only', async () => {
      store = await create();
      await store.append('session-a', [sampleEvent(), sampleEvent()]);
      await store.append('session-b', [sampleEvent()]);
      const oneStream = firstValueFrom(store.subscribe({ stream: 'session-a', fromPosition: 2 }).pipe(take(2), toArray()));
      const liveOnly = firstValueFrom(store.subscribe({ fromPosition: 'end' }).pipe(take(1), toArray()));
      await store.append('session-a', [sampleEvent()]);
      expect((await oneStream).map((e) => [e.stream, e.version])).toEqual([
        ['session-a', 2],
        ['session-a', 3],
      ]);
      expect((await liveOnly).map((e) => e.position)).toEqual([4]);
    });

    it('refuses to be used after close', async () => {
      store = await create();
      await store.close();
      await expect(store.append('session-a', [sampleEvent()])).rejects.toThrow(/closed/);
    });

    it('keeps what was appended before close, refuses what comes after it is called, and closes once for every caller', async () => {
      store = await create();
      const before = store.append('session-a', [sampleEvent('t1')]);
      const closes = [store.close(), store.close()];
      const after = store.append('session-a', [sampleEvent('t2')]);
      const [kept, refused] = await Promise.allSettled([before, after]);
      expect(kept).toMatchObject({ status: 'fulfilled', value: { nextExpectedVersion: 1 } });
      expect(refused.status).toBe('rejected');
      expect(String((refused as PromiseRejectedResult).reason)).toMatch(/closed/);
      await Promise.all(closes);
      if (factory.reopen !== undefined) {
        const reopened = await factory.reopen(store);
        open.push(reopened);
        expect((await collect(reopened.readAll())).map((e) => (e.data as { taskId: string }).taskId)).toEqual(['t1']);
      }
    });

    it('refuses a read bound that is not a whole number, naming it', async () => {
      store = await create();
      await store.append('session-a', [sampleEvent(), sampleEvent()]);
      await expect(collect(store.readAll({ fromPosition: 1.5 }))).rejects.toThrow('fromPosition is a whole number (a version or a position), not 1.5.');
      await expect(collect(store.readStream('session-a', { toVersion: Number.NaN }))).rejects.toThrow(/toVersion is a whole number/);
      const batches = (async () => {
        for await (const _ of store.readAllBatches({ toPosition: 2.5 }));
      })();
      await expect(batches).rejects.toThrow(/toPosition is a whole number/);
      expect(() => store.subscribe({ fromPosition: 0.5 })).toThrow(/fromPosition is a whole number/);
    });

    if (factory.reopen !== undefined) {
      const reopen = factory.reopen;
      it('keeps every acknowledged event across a close and reopen', async () => {
        store = await create();
        await store.append('session-a', [sampleEvent('t1'), sampleEvent('t2')]);
        await store.append('session-b', [sampleEvent('t3')]);
        const reopened = await reopen(store);
        open.push(reopened);
        const all = await collect(reopened.readAll());
        expect(all.map((e) => [e.position, e.stream, e.version])).toEqual([
          [1, 'session-a', 1],
          [2, 'session-a', 2],
          [3, 'session-b', 1],
        ]);
        const next = await reopened.append('session-a', [sampleEvent()], { expectedVersion: 2 });
        expect(next.events[0]!.position).toBe(4);
      });
    }
  });
}
