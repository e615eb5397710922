import { isCheckpointIntact, type CheckpointDocument } from '../checkpoints/checkpointDocument.js';
import type { CheckpointStore, LoadedCheckpoint } from '../checkpoints/checkpointStore.js';
import type { ViewSnapshots } from '../checkpoints/viewSnapshots.js';
import { sessionStream, type StoredEvent } from '../events/envelope.js';
import { UnknownSessionError } from '../errors.js';
import { sessionViewFromJson, sessionViewProjection, type SessionView } from '../projections/sessionView.js';
import { eventAt } from '../store/eventAt.js';
import type { EventStore } from '../store/eventStore.js';

/** Something noticed while loading, reported instead of thrown (a checkpoint skipped). */
export interface LoadWarning {
  code: 'CHECKPOINT_SKIPPED';
  message: string;
}

/** Options of {@link loadSessionView}. */
export interface LoadSessionViewOptions {
  /** Stop at this version (time travel). */
  toVersion?: number;
  /** Start from the newest valid checkpoint here instead of from the first event. */
  checkpoints?: CheckpointStore;
  /** Start from the session's view snapshot here when the log confirms it (and it is newer than any checkpoint). */
  snapshots?: ViewSnapshots;
  onWarning?: (warning: LoadWarning) => void;
}

/** How a view was loaded: from which checkpoint (or snapshot), and how many events were folded. */
export interface LoadedSessionView {
  view: SessionView;
  checkpoint?: CheckpointDocument;
  /** True when it started from the session's view snapshot. */
  fromSnapshot?: boolean;
  eventsFolded: number;
}

/**
 * Load a session's view from the log. A fork starts from its parent's view at
 * the version it branched at. With a checkpoint store, the newest checkpoint
 * that is intact (its state matches its checksum) and confirmed by the log
 * (the `CheckpointCreated` event right after its version names it, with the
 * same checksum) is the starting point, and only the events after it are read;
 * a checkpoint that fails either check is skipped with a warning.
 */
export async function loadSessionView(
  store: EventStore,
  sessionId: string,
  options: LoadSessionViewOptions = {},
): Promise<LoadedSessionView | undefined> {
  const stream = sessionStream(sessionId);
  const { toVersion } = options;
  const snapshot = toVersion === undefined && options.snapshots !== undefined ? await confirmedSnapshot(store, sessionId, options.snapshots) : undefined;
  // A snapshot the log confirms is the newest view there is: no checkpoint document is read and checked then.
  const start = options.checkpoints === undefined || snapshot !== undefined ? undefined : await newestValidCheckpoint(store, sessionId, options);
  let view: SessionView;
  let fromVersion = 1;
  let fromSnapshot = false;
  if (snapshot !== undefined && (start === undefined || snapshot.version >= start.version)) {
    view = snapshot;
    fromVersion = snapshot.version + 1;
    fromSnapshot = true;
  } else if (start !== undefined && (toVersion === undefined || start.version <= toVersion)) {
    view = sessionViewFromJson(start.state);
    fromVersion = start.version + 1;
  } else {
    view = sessionViewProjection.initialState();
  }
  let eventsFolded = 0;
  const range = toVersion === undefined ? { fromVersion } : { fromVersion, toVersion };
  for await (const event of store.readStream(stream, range)) {
    if (event.version === 1 && event.type === 'SessionForked') view = await forkBase(store, event);
    view = sessionViewProjection.evolve(view, event);
    eventsFolded++;
  }
  if (view.version === 0) return undefined;
  if (view.session.sessionId !== sessionId) throw new UnknownSessionError(sessionId);
  const loaded: LoadedSessionView = { view, eventsFolded };
  if (fromSnapshot) loaded.fromSnapshot = true;
  else if (start !== undefined && fromVersion > 1) loaded.checkpoint = start;
  return loaded;
}

/** The session's snapshot, if the log confirms it: its event at the snapshot's version has the id the snapshot names. */
async function confirmedSnapshot(store: EventStore, sessionId: string, snapshots: ViewSnapshots): Promise<SessionView | undefined> {
  const snapshot = await snapshots.load(sessionId);
  if (snapshot === undefined || snapshot.view.version < 1) return undefined;
  const event = await eventAt(store, sessionStream(sessionId), snapshot.view.version);
  return event?.id === snapshot.eventId && event.position === snapshot.view.position ? snapshot.view : undefined;
}

/** The view a fork starts from: its parent's, at the version it branched at. */
export async function forkBase(store: EventStore, forked: StoredEvent): Promise<SessionView> {
  if (forked.type !== 'SessionForked') throw new Error('not a fork');
  const parent = await loadSessionView(store, forked.data.parentSessionId, { toVersion: forked.data.parentVersion });
  if (parent === undefined) throw new UnknownSessionError(forked.data.parentSessionId);
  return parent.view;
}

async function newestValidCheckpoint(
  store: EventStore,
  sessionId: string,
  options: LoadSessionViewOptions,
): Promise<CheckpointDocument | undefined> {
  const found = await options.checkpoints!.list(sessionId);
  const warn = (message: string) => options.onWarning?.({ code: 'CHECKPOINT_SKIPPED', message });
  const readable: CheckpointDocument[] = [];
  const unreadable: (LoadedCheckpoint & { ok: false })[] = [];
  for (const entry of found) {
    if (entry.ok) readable.push(entry.document);
    else unreadable.push(entry);
  }
  // A file that cannot be read names no session: it is this one's to report only if its log records that checkpoint.
  if (unreadable.length > 0) {
    const recorded = new Set<string>();
    for await (const event of store.readStream(sessionStream(sessionId))) {
      if (event.type === 'CheckpointCreated') recorded.add(event.data.checkpointId);
    }
    for (const entry of unreadable) {
      if (recorded.has(entry.checkpointId)) warn(`Skipped checkpoint ${entry.checkpointId}: ${entry.file} cannot be read (${entry.reason}).`);
    }
  }
  readable.sort((a, b) => b.version - a.version);
  for (const document of readable) {
    if (options.toVersion !== undefined && document.version > options.toVersion) continue;
    if (!isCheckpointIntact(document)) {
      warn(`Skipped checkpoint ${document.checkpointId} of session ${sessionId}: its state does not match its checksum.`);
      continue;
    }
    const event = await eventAt(store, sessionStream(sessionId), document.version + 1);
    const recorded = event?.type === 'CheckpointCreated' ? event.data : undefined;
    if (recorded?.checkpointId !== document.checkpointId) {
      warn(`Skipped checkpoint ${document.checkpointId} of session ${sessionId}: the log does not record it at version ${document.version + 1}.`);
      continue;
    }
    if (recorded.checksum !== document.checksum) {
      warn(
        `Skipped checkpoint ${document.checkpointId} of session ${sessionId}: its checksum differs from the one the log records ` +
          `at version ${document.version + 1} (the document was written over).`,
      );
      continue;
    }
    return document;
  }
  return undefined;
}
