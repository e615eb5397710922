import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileEventStore, type FileEventStore } from '../../src/index.js';
import { describeEventStoreContract } from '../../src/testing/index.js';

const dirs = new WeakMap<object, string>();

for (const durability of ['batch', 'always', 'none'] as const) {
  describeEventStoreContract(`file store (durability ${durability})`, {
    async create() {
      const dir = join(await mkdtemp(join(tmpdir(), 'moai-file-store-')), 'events');
      const store = await openFileEventStore({ dir, durability });
      dirs.set(store, dir);
      return store;
    },
    async reopen(store) {
      await store.close();
      const dir = (store as FileEventStore).dir;
      return openFileEventStore({ dir, durability });
    },
  });
}

describeEventStoreContract('file store with tiny segments', {
  async create() {
    const dir = join(await mkdtemp(join(tmpdir(), 'moai-file-store-')), 'events');
    return openFileEventStore({ dir, maxSegmentBytes: 400 });
  },
  async reopen(store) {
    await store.close();
    return openFileEventStore({ dir: (store as FileEventStore).dir, maxSegmentBytes: 400 });
  },
});
