import { describe, expect, it } from 'vitest';
import type { CheckpointDocument } from '../../src/checkpoints/checkpointDocument.js';
import type { CheckpointStore } from '../../src/checkpoints/checkpointStore.js';

/** A checkpoint document with what the contract checks: ids, the version and a state. */
export function sampleCheckpointDocument(sessionId: string, checkpointId: string, version = 3): CheckpointDocument {
  return {
    checkpoint_id: checkpointId,
    timestamp: '2026-01-01T00:00:00.000Z',
    phase: null,
    token_usage: { used: 100, available: 199_900 },
    context_snapshot: '',
    session_id: sessionId,
    recovery_tokens_reserved: 55_000,
    checkpointId,
    sessionId,
    stream: `session-${sessionId}`,
    reason: 'manual',
    createdAt: '2026-01-01T00:00:00.000Z',
    version,
    position: version,
    checksum: 'sha256:0',
    viewFormat: 2,
    git: null,
    state: { version, note: `state of ${sessionId} at ${version}` },
  };
}

/**
 * The contract every {@link CheckpointStore} keeps (files, memory,
 * PostgreSQL): run it with a factory that gives a fresh, empty store.
 *
 * @example
 * checkpointStoreContract('file', async () => createFileCheckpointStore(await tempDir()));
 */
export function checkpointStoreContract(name: string, fresh: () => Promise<CheckpointStore>): void {
  describe(`the ${name} checkpoint store`, () => {
    it('gives back what was saved, by session and id, and nothing it was not given', async () => {
      const store = await fresh();
      const document = sampleCheckpointDocument('s1', 'cp-1');
      await store.save(document);
      const loaded = await store.load('s1', 'cp-1');
      expect(loaded).toMatchObject({ ok: true, document });
      expect(await store.load('s1', 'cp-2')).toBeUndefined();
      expect(await store.load('s2', 'cp-1')).toBeUndefined();
      expect(typeof store.location).toBe('string');
    });

    it('replaces a document saved again with the same id', async () => {
      const store = await fresh();
      await store.save(sampleCheckpointDocument('s1', 'cp-1', 3));
      await store.save(sampleCheckpointDocument('s1', 'cp-1', 7));
      const listed = await store.list('s1');
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ ok: true, document: { version: 7 } });
    });

    it("lists a session's documents in id order, never another session's", async () => {
      const store = await fresh();
      await store.save(sampleCheckpointDocument('s1', 'cp-b'));
      await store.save(sampleCheckpointDocument('s2', 'cp-a'));
      await store.save(sampleCheckpointDocument('s1', 'cp-a'));
      const ids = (await store.list('s1')).map((found) => (found.ok ? found.document.checkpointId : found.checkpointId));
      expect(ids).toEqual(['cp-a', 'cp-b']);
      expect((await store.list('s2')).map((found) => found.ok && found.document.sessionId)).toEqual(['s2']);
      expect(await store.list('s3')).toEqual([]);
    });

    it('keeps two sessions’ documents of the same id apart', async () => {
      const store = await fresh();
      await store.save(sampleCheckpointDocument('s1', 'cp-1', 3));
      await store.save(sampleCheckpointDocument('s2', 'cp-1', 9));
      expect(await store.load('s1', 'cp-1')).toMatchObject({ document: { sessionId: 's1', version: 3 } });
      expect(await store.load('s2', 'cp-1')).toMatchObject({ document: { sessionId: 's2', version: 9 } });
      await store.archive('cp-1', 's1');
      expect(await store.load('s1', 'cp-1')).toBeUndefined();
      expect(await store.load('s2', 'cp-1')).toMatchObject({ ok: true });
    });

    it('archives a document: no longer loaded or listed; archiving it again, or one never saved, does nothing', async () => {
      const store = await fresh();
      await store.save(sampleCheckpointDocument('s1', 'cp-1'));
      await store.save(sampleCheckpointDocument('s1', 'cp-2'));
      await store.archive('cp-1', 's1');
      expect(await store.load('s1', 'cp-1')).toBeUndefined();
      expect((await store.list('s1')).map((found) => found.ok && found.document.checkpointId)).toEqual(['cp-2']);
      await store.archive('cp-1', 's1');
      await store.archive('cp-never', 's1');
      // Without the session: the one session that has it.
      await store.archive('cp-2');
      expect(await store.list('s1')).toEqual([]);
    });

    it('gives back a copy: changing what it gave does not change what it keeps', async () => {
      const store = await fresh();
      const document = sampleCheckpointDocument('s1', 'cp-1');
      await store.save(document);
      document.state['note'] = 'changed after saving';
      const first = await store.load('s1', 'cp-1');
      expect(first).toMatchObject({ ok: true, document: { state: { note: 'state of s1 at 3' } } });
      if (first?.ok === true) first.document.state['note'] = 'changed after loading';
      expect(await store.load('s1', 'cp-1')).toMatchObject({ document: { state: { note: 'state of s1 at 3' } } });
    });
  });
}
