import type { Pool } from 'pg';
import { StorageError } from '../errors.js';
import type { CheckpointDocument } from './checkpointDocument.js';
import type { CheckpointStore, LoadedCheckpoint } from './checkpointStore.js';

/** Options of {@link createPostgresCheckpointStore}. */
export interface PostgresCheckpointStoreOptions {
  /** The pool of the PostgreSQL event store (or any pool on its database). */
  pool: Pool;
  /** The store's schema: the documents are in its `checkpoints` table (created by its migrations). */
  schema: string;
  /** The folder whose git state each checkpoint records; none when absent. */
  workingFolder?: string;
}

/**
 * Checkpoint documents in the database, beside the log they were taken
 * from: every machine that appends to the log can resume from any of them.
 * A save replaces a document of the same session and id in one statement;
 * archiving marks it (it is kept, no longer listed or loaded). Every query
 * is parameterised; the schema name is checked by the event store.
 *
 * @example
 * const store = await openPostgresEventStore({ url });
 * const engine = await createEngine({ store, checkpoints: createPostgresCheckpointStore({ pool: store.pool, schema: store.schema }) });
 */
export function createPostgresCheckpointStore(options: PostgresCheckpointStoreOptions): CheckpointStore {
  const { pool, schema } = options;
  const table = `"${schema}".checkpoints`;
  const location = `PostgreSQL table ${schema}.checkpoints`;
  const fileOf = (sessionId: string, checkpointId: string): string => `${location} (${sessionId}, ${checkpointId})`;
  const loaded = (sessionId: string, checkpointId: string, text: string): LoadedCheckpoint => {
    const file = fileOf(sessionId, checkpointId);
    try {
      return { ok: true, document: JSON.parse(text) as CheckpointDocument, file };
    } catch (error) {
      return { ok: false, checkpointId, file, reason: (error as Error).message };
    }
  };
  const run = async <T extends object>(text: string, values: unknown[], doing: string): Promise<T[]> => {
    try {
      return (await pool.query<T>(text, values)).rows;
    } catch (error) {
      throw new StorageError(`${location}: ${doing} failed: ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    location,
    ...(options.workingFolder === undefined ? {} : { workingFolder: options.workingFolder }),
    fileOf,
    async save(document) {
      await run(
        `INSERT INTO ${table} (session_id, checkpoint_id, document) VALUES ($1, $2, $3)
         ON CONFLICT (session_id, checkpoint_id) DO UPDATE SET document = excluded.document, saved_at = now(), archived_at = NULL`,
        [document.sessionId, document.checkpointId, JSON.stringify(document)],
        `saving checkpoint ${document.checkpointId} of session ${document.sessionId}`,
      );
    },
    async load(sessionId, checkpointId) {
      const rows = await run<{ document: string }>(
        `SELECT document FROM ${table} WHERE session_id = $1 AND checkpoint_id = $2 AND archived_at IS NULL`,
        [sessionId, checkpointId],
        `loading checkpoint ${checkpointId} of session ${sessionId}`,
      );
      return rows.length === 0 ? undefined : loaded(sessionId, checkpointId, rows[0]!.document);
    },
    async list(sessionId) {
      const rows = await run<{ checkpoint_id: string; document: string }>(
        `SELECT checkpoint_id, document FROM ${table} WHERE session_id = $1 AND archived_at IS NULL ORDER BY checkpoint_id COLLATE "C"`,
        [sessionId],
        `listing the checkpoints of session ${sessionId}`,
      );
      return rows.map((row) => loaded(sessionId, row.checkpoint_id, row.document));
    },
    async archive(checkpointId, sessionId) {
      const rows = await run<{ session_id: string }>(
        `SELECT session_id FROM ${table} WHERE checkpoint_id = $1 AND ($2::text IS NULL OR session_id = $2) AND archived_at IS NULL ORDER BY session_id`,
        [checkpointId, sessionId ?? null],
        `finding checkpoint ${checkpointId}`,
      );
      if (rows.length === 0) return; // archiving twice is archiving once
      if (rows.length > 1) {
        throw new StorageError(
          `Checkpoint ${checkpointId} is kept for several sessions (${rows.map((r) => r.session_id).join(', ')}); name the session whose checkpoint to archive.`,
        );
      }
      await run(
        `UPDATE ${table} SET archived_at = now() WHERE session_id = $1 AND checkpoint_id = $2 AND archived_at IS NULL`,
        [rows[0]!.session_id, checkpointId],
        `archiving checkpoint ${checkpointId}`,
      );
    },
  };
}

/** Marks a PostgreSQL event store, so an engine can keep its checkpoints in the same database. */
export const POSTGRES_STORE_BRAND = Symbol.for('moai-session.postgres-event-store');

/**
 * The checkpoint store that goes with an event store, when the event store
 * keeps its own (the PostgreSQL store: its `checkpoints` table); undefined
 * for other stores, whose checkpoints are files in the state folder.
 */
export function checkpointStoreBesideLog(store: object, workingFolder?: string): CheckpointStore | undefined {
  const candidate = store as { [POSTGRES_STORE_BRAND]?: true; pool?: Pool; schema?: string };
  if (candidate[POSTGRES_STORE_BRAND] !== true || candidate.pool === undefined || candidate.schema === undefined) return undefined;
  return createPostgresCheckpointStore({ pool: candidate.pool, schema: candidate.schema, ...(workingFolder === undefined ? {} : { workingFolder }) });
}
