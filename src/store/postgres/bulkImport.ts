import type { StoredEvent } from '../../events/envelope.js';

/** Marks a store that can take a run of another store's events as they were, in one statement. */
export const IMPORT_EVENTS = Symbol.for('moai-session.import-events');

/**
 * Append `events` with the positions and versions they have (another store's):
 * all of them, only if they continue this log exactly, or none.
 */
export type ImportEvents = (events: readonly StoredEvent[]) => Promise<void>;

/** The bulk import of a store that has one (the PostgreSQL store), else undefined. */
export const importerOf = (store: object): ImportEvents | undefined => (store as { [IMPORT_EVENTS]?: ImportEvents })[IMPORT_EVENTS];
