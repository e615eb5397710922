import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sessionViewFromJson, type SessionView } from '../projections/sessionView.js';
import { isValidId } from '../validation/ids.js';

/**
 * The format of a view snapshot. Bump it whenever a projection changes what
 * it folds: snapshots of another format are ignored (the log is folded
 * instead), so an upgrade never starts from a view the new code would not
 * have built.
 */
export const VIEW_SNAPSHOT_FORMAT = 4;

/** What a snapshot file says of itself, on its first line. */
interface SnapshotHeader {
  format: number;
  sessionId: string;
  /** The stream version of the last event folded in. */
  version: number;
  /** The id of that event: the log confirms the snapshot when its event at `version` has this id. */
  eventId: string;
  /** SHA-256 (hex) of the state's JSON text, the second line. */
  sha256: string;
}

/** A snapshot read back, before the log confirms it. */
export interface ViewSnapshot {
  view: SessionView;
  /** The id of the event at `view.version`. */
  eventId: string;
}

/**
 * The newest view of each session, kept beside the log so that a command
 * (or a Claude Code hook) that needs one session's state reads one file and
 * the events after it instead of folding the whole session. A cache, not a
 * fact: nothing in the log points to it, a snapshot the log does not confirm
 * (another event at its version), a damaged one (its checksum) or one of
 * another format is ignored, and any snapshot can be deleted at any time.
 */
export interface ViewSnapshots {
  /** The snapshot of a session, if there is a readable one (not yet confirmed by the log). */
  load(sessionId: string): Promise<ViewSnapshot | undefined>;
  /** Keep `view` (whose last event has id `eventId`) as the session's snapshot, atomically. */
  save(view: SessionView, eventId: string): Promise<void>;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

let tempCounter = 0;

/** The snapshots of `snapshots`, read but never written: for a reader, which must change nothing. */
export const readOnlySnapshots = (snapshots: ViewSnapshots): ViewSnapshots => ({ load: (id) => snapshots.load(id), save: async () => {} });

/** View snapshots as files: `<dir>/cache/views/<sessionId>.json` (a header line, then the view's JSON). */
export function createFileViewSnapshots(dir: string): ViewSnapshots {
  const folder = join(dir, 'cache', 'views');
  const fileOf = (sessionId: string): string | undefined => (isValidId('session', sessionId) ? join(folder, `${sessionId}.json`) : undefined);
  return {
    async load(sessionId) {
      const file = fileOf(sessionId);
      if (file === undefined) return undefined;
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) return undefined;
      const newline = text.indexOf('\n');
      if (newline === -1) return undefined;
      try {
        const header = JSON.parse(text.slice(0, newline)) as SnapshotHeader;
        const stateText = text.slice(newline + 1);
        if (header.format !== VIEW_SNAPSHOT_FORMAT || header.sessionId !== sessionId || sha256(stateText) !== header.sha256) return undefined;
        const view = sessionViewFromJson(JSON.parse(stateText) as Record<string, unknown>);
        if (view.version !== header.version || view.session.sessionId !== sessionId) return undefined;
        return { view, eventId: header.eventId };
      } catch {
        return undefined; // a cache that cannot be read is no cache: the log is folded instead
      }
    },
    async save(view, eventId) {
      const file = fileOf(view.session.sessionId);
      if (file === undefined) return;
      const stateText = JSON.stringify(view); // the same text as the view's JSON form
      const header: SnapshotHeader = {
        format: VIEW_SNAPSHOT_FORMAT,
        sessionId: view.session.sessionId,
        version: view.version,
        eventId,
        sha256: sha256(stateText),
      };
      await mkdir(folder, { recursive: true });
      const temp = join(folder, `.${view.session.sessionId}.${process.pid}.${++tempCounter}.tmp`);
      try {
        await writeFile(temp, `${JSON.stringify(header)}\n${stateText}`);
        await rename(temp, file);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        throw error;
      }
    },
  };
}
