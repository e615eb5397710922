import { debounceTime, Subject } from 'rxjs';
import type { Engine } from '../engine/createEngine.js';
import { InvalidArgumentError } from '../errors.js';
import { sessionIdOfStream, type StoredEvent } from '../events/envelope.js';
import type { SessionView } from '../projections/sessionView.js';
import { tokenHistoryProjection, type TokenHistory } from '../projections/tokenHistory.js';
import { memoryFilesOptionsFrom, type MemoryFilesOptions } from './memoryFiles.js';
import { writeMemoryFiles, type WriteMemoryFilesResult } from './writeMemoryFiles.js';

/** Options of {@link createMemorySync}. */
export interface MemorySyncOptions extends MemoryFilesOptions {
  /** The `.moai` folder; the files go to `<dir>/sessions/`. */
  dir: string;
  /** How long the views must stay still before the files are rewritten, in ms. Defaults to 200. */
  debounceMs?: number;
  /**
   * Called when a debounced write fails (a `StorageError`). Defaults to
   * keeping it in {@link MemorySync.lastError}; the append path never sees it.
   */
  onError?: (error: unknown) => void;
  /** Called after each write with what was written; for tests and diagnostics. */
  onWrite?: (result: WriteMemoryFilesResult) => void;
}

/** A running memory-file sync; see {@link createMemorySync}. */
export interface MemorySync {
  /** Write the files now from the newest views and wait for it; rejects when the write fails. */
  flush(): Promise<void>;
  /** Stop following the engine, then write the files one last time. Safe to call twice. */
  close(): Promise<void>;
  /** The last debounced write's error, if the last debounced write failed. */
  readonly lastError: unknown;
}

/**
 * Keep the memory files under `<dir>/sessions/` in sync with an engine's
 * sessions. Loads every session's view once from the log (`engine.replay()`),
 * then follows `engine.state$`, keeping the newest view of each session, and
 * rewrites the files once changes have paused for `debounceMs`. An append
 * only records the new view and schedules a write: it never waits for the
 * files. Writes run one at a time; each writes the newest views it finds.
 *
 * Only sessions changed through this engine are followed live; another
 * process's appends show up at the next `createMemorySync`, or at the next
 * write after this engine appends past them (a gap in the positions it saw
 * makes that write read the log again). The files record the log position
 * they reflect, and a write never overwrites files another process built at
 * a later one (see {@link writeMemoryFiles}).
 *
 * @example
 * const sync = await createMemorySync(engine, { dir: '.moai' });
 * await session.addTask({ taskId: 'spec', title: 'Write the spec' });
 * await sync.close(); // the files now match the log
 */
export async function createMemorySync(engine: Engine, options: MemorySyncOptions): Promise<MemorySync> {
  const { dir, debounceMs = 200, onError, onWrite, ...given } = options;
  // Options not given come from the engine's settings, as `checkMemorySync` takes them.
  const fileOptions: MemoryFilesOptions = { ...memoryFilesOptionsFrom(engine.settings), ...given };
  if (!Number.isFinite(debounceMs) || debounceMs < 0) {
    throw new InvalidArgumentError(`debounceMs is a number of milliseconds, 0 or more; got ${String(debounceMs)}.`);
  }
  const views = new Map<string, SessionView>();
  const keep = (sessionId: string, view: SessionView): void => {
    const current = views.get(sessionId);
    if (current === undefined || view.version >= current.version) views.set(sessionId, view);
  };
  const changes = new Subject<void>();

  // Follow first, then load: a view published while the log is being read is
  // kept, and whichever of the two is newer wins.
  const live = engine.state$.subscribe((view) => {
    if (view.session.sessionId === '') return;
    keep(view.session.sessionId, view);
    changes.next();
  });
  // The token histories follow the events: those that arrive while the log is
  // read wait, then only the ones the replay did not include are applied.
  const histories = new Map<string, TokenHistory>();
  const historyVersion = new Map<string, number>();
  let waiting: StoredEvent[] | undefined = [];
  // A fork's history starts from its parent's context at the fork, which the
  // events alone do not carry: a fork first seen live is rebuilt from the log
  // before the next write, and the events followed meanwhile are applied again.
  const forksToSeed = new Map<string, StoredEvent[]>();
  const follow = (event: StoredEvent): void => {
    const sessionId = sessionIdOfStream(event.stream);
    if (sessionId === undefined || event.version <= (historyVersion.get(sessionId) ?? 0)) return;
    historyVersion.set(sessionId, event.version);
    const history = histories.get(sessionId);
    if (history === undefined && event.type === 'SessionForked') forksToSeed.set(sessionId, []);
    forksToSeed.get(sessionId)?.push(event);
    histories.set(sessionId, tokenHistoryProjection.evolve(history ?? tokenHistoryProjection.initialState(), event));
  };
  const seedForks = async (): Promise<void> => {
    for (const [sessionId, followed] of forksToSeed) {
      const report = await engine.replay({ sessionId });
      let history = report.tokenHistories.get(sessionId)!;
      const version = report.sessions.get(sessionId)!.version;
      for (const event of followed) if (event.version > version) history = tokenHistoryProjection.evolve(history, event);
      histories.set(sessionId, history);
      forksToSeed.delete(sessionId);
    }
  };
  // The log position the views reflect: every event up to it is in. Live events past a
  // gap (another process appended in between, as with a shared PostgreSQL log) wait in
  // `ahead`; a write with a gap (or a session seen only in events) first reads the log again, so the files never claim a
  // position whose events they lack, and are not left behind by another writer's.
  let position = 0;
  const ahead = new Set<number>();
  const advance = (at: number): void => {
    if (at <= position) return;
    ahead.add(at);
    while (ahead.delete(position + 1)) position += 1;
  };
  // The newest version of each session the events showed: a session whose view is older (another
  // engine's session on a shared store, whose events arrive without its view) is read from the log too.
  const eventVersions = new Map<string, number>();
  const liveEvents = engine.events$.subscribe((event) => {
    const sessionId = sessionIdOfStream(event.stream);
    if (sessionId !== undefined && event.version > (eventVersions.get(sessionId) ?? 0)) eventVersions.set(sessionId, event.version);
    if (waiting !== undefined) waiting.push(event);
    else {
      follow(event);
      advance(event.position);
    }
  });
  const behind = (): boolean =>
    ahead.size > 0 || [...eventVersions].some(([sessionId, version]) => (views.get(sessionId)?.version ?? 0) < version);
  const load = async (): Promise<void> => {
    waiting ??= []; // (the first load keeps what arrived since the subscription)
    try {
      const { sessions, tokenHistories, lastPosition } = await engine.replay();
      for (const [sessionId, view] of sessions) {
        keep(sessionId, view);
        if ((historyVersion.get(sessionId) ?? 0) <= view.version) {
          histories.set(sessionId, tokenHistories.get(sessionId)!);
          historyVersion.set(sessionId, view.version);
          forksToSeed.delete(sessionId);
        }
      }
      position = Math.max(position, lastPosition);
      for (const at of [...ahead]) if (at <= position) ahead.delete(at);
      while (ahead.delete(position + 1)) position += 1;
      for (const event of waiting) {
        follow(event);
        advance(event.position);
      }
    } finally {
      waiting = undefined;
    }
  };
  try {
    await load();
  } catch (error) {
    live.unsubscribe();
    liveEvents.unsubscribe();
    throw error;
  }

  let lastError: unknown;
  let queue: Promise<unknown> = Promise.resolve();
  const write = (): Promise<void> => {
    const run = queue.then(async () => {
      if (behind()) await load();
      await seedForks();
      const source = { sessions: new Map(views), tokenHistories: new Map(histories), lastPosition: position };
      const result = await writeMemoryFiles(dir, source, { ...fileOptions, headPosition: () => engine.store.headPosition() });
      onWrite?.(result);
    });
    queue = run.catch(() => undefined);
    return run;
  };

  const debounced = changes.pipe(debounceTime(debounceMs)).subscribe(() => {
    write().then(
      () => {
        lastError = undefined;
      },
      (error: unknown) => {
        lastError = error;
        onError?.(error);
      },
    );
  });
  // The files may predate the log's newest events: bring them up to date.
  changes.next();

  let closed: Promise<void> | undefined;
  return {
    flush: () => write(),
    close() {
      closed ??= (async () => {
        live.unsubscribe();
        liveEvents.unsubscribe();
        debounced.unsubscribe();
        changes.complete();
        await write();
      })();
      return closed;
    },
    get lastError() {
      return lastError;
    },
  };
}
