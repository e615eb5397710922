import { createHash } from 'node:crypto';
import type SafeStableStringify from 'safe-stable-stringify';
import type { NewEvent, StoredEvent } from '../../events/envelope.js';
import { sessionIdOfStream } from '../../events/envelope.js';
import { StorageError } from '../../errors.js';
import type { CheckpointStore } from '../../checkpoints/checkpointStore.js';
import { requireCommonJs } from '../../util/commonJs.js';
import type { EventStore } from '../eventStore.js';
import { importerOf } from './bulkImport.js';

/** What {@link copyLog} reports as it goes. */
export interface CopyProgress {
  /** Events in the target now. */
  copied: number;
  /** Events to copy in all (the source's head when the copy began). */
  total: number;
}

/** What {@link copyLog} did and found. */
export interface CopyLogResult {
  /** Events the target already had (a resumed copy) and left as they were. */
  alreadyThere: number;
  /** Events appended now. */
  appended: number;
  /** Events in each store at the end, up to the source's head when the copy began. */
  events: number;
  streams: number;
  /** Checkpoint documents copied (each session's, archived ones excepted). */
  checkpoints: number;
  /** sha256 over every event of the copied range, as read back from each store: equal, or the copy throws. */
  checksum: string;
}

/** Options of {@link copyLog}. */
export interface CopyLogOptions {
  from: EventStore;
  to: EventStore;
  /** The source's checkpoint documents, copied to `toCheckpoints` when both are given. */
  fromCheckpoints?: CheckpointStore;
  toCheckpoints?: CheckpointStore;
  /** Called after each append, and once at the end. */
  onProgress?: (progress: CopyProgress) => void;
  /** Stop early (between appends): what was copied stays, and a later copy goes on from there. */
  signal?: AbortSignal;
}

const stable = (): typeof SafeStableStringify => requireCommonJs('safe-stable-stringify') as typeof SafeStableStringify;

/** One event as the checksum sees it: every field a store keeps, keys in a fixed order. */
export function canonicalEvent(event: StoredEvent): string {
  const { position, stream, version, id, type, schemaVersion, meta, data } = event;
  return stable()({ position, stream, version, id, type, schemaVersion, meta, data })!;
}

/** The sha256 of a store's events from position 1 to `to`, each {@link canonicalEvent} and a line break. */
export async function logChecksum(store: EventStore, to: number): Promise<{ checksum: string; events: number }> {
  const hash = createHash('sha256');
  let events = 0;
  if (to > 0) {
    for await (const batch of store.readAllBatches({ toPosition: to })) {
      for (const event of batch) {
        hash.update(canonicalEvent(event));
        hash.update('\n');
        events++;
      }
    }
  }
  return { checksum: `sha256:${hash.digest('hex')}`, events };
}

const asNew = (event: StoredEvent): NewEvent => ({ id: event.id, type: event.type, data: event.data, meta: event.meta }) as NewEvent;

/**
 * Copy a whole log from one store to another (file to PostgreSQL or back):
 * the same streams, versions, positions, ids, metadata and data, then the
 * checkpoint documents, verified at the end by counts and a checksum of
 * every event read back from both. Resumable: a target that holds the start
 * of the source (checked by checksum) is continued where it stopped; any
 * other non-empty target is refused. Into a database, thousands of events
 * go in one statement that refuses them unless they continue its log
 * exactly; into another store, runs of one stream go in one append each,
 * with the expected version the source had, and each landing position is
 * checked, so nothing else can interleave unnoticed.
 *
 * @throws {StorageError} when the target is not a start of the source, or the copy does not read back the same.
 */
export async function copyLog(options: CopyLogOptions): Promise<CopyLogResult> {
  const { from, to } = options;
  const total = await from.headPosition();
  const already = await to.headPosition();
  if (already > total) {
    throw new StorageError(`The target already holds ${already} events, more than the source's ${total}: copy into an empty store.`);
  }
  if (already > 0) {
    const [source, target] = await Promise.all([logChecksum(from, already), logChecksum(to, already)]);
    if (source.checksum !== target.checksum) {
      throw new StorageError(
        `The target holds ${already} events that are not the source's first ${already}: copy into an empty store (or the target of an interrupted copy of this source).`,
      );
    }
  }
  let copied = already;
  let appended = 0;
  const stopped = (): boolean => options.signal?.aborted === true;
  const stopError = (): StorageError => new StorageError(`The copy was stopped at position ${copied} of ${total}; run it again to go on.`);
  const importer = importerOf(to);
  if (already < total && importer !== undefined) {
    // A database takes thousands of events in one statement, positions and versions as they are.
    for await (const batch of from.readAllBatches({ fromPosition: already + 1, toPosition: total })) {
      if (stopped()) throw stopError();
      await importer(batch);
      copied += batch.length;
      appended += batch.length;
      options.onProgress?.({ copied, total });
    }
  } else if (already < total) {
    // Runs of one stream, each one append with the version the source had; many on their
    // way at once (a store writes its appends in the order they were made, and each
    // landing position is checked).
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    let run: StoredEvent[] = [];
    const send = (events: StoredEvent[]): void => {
      const first = events[0]!;
      const landed = to.append(first.stream, events.map(asNew), { expectedVersion: first.version - 1 }).then((result) => {
        if (result.events[0]!.position !== first.position) {
          throw new StorageError(
            `The copy of ${first.stream} v${first.version} landed at position ${result.events[0]!.position}, not ${first.position}: something else writes to the target; stop it and copy again.`,
          );
        }
        copied += events.length;
        appended += events.length;
        options.onProgress?.({ copied, total });
      });
      const tracked: Promise<void> = landed.catch((error: unknown) => {
        failure ??= error;
      }).finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    };
    const flush = async (): Promise<void> => {
      if (run.length > 0) send(run);
      run = [];
      if (inFlight.size >= 256) await Promise.race(inFlight);
      if (failure !== undefined) throw failure;
    };
    for await (const batch of from.readAllBatches({ fromPosition: already + 1, toPosition: total })) {
      for (const event of batch) {
        if (run.length > 0 && (event.stream !== run[0]!.stream || run.length >= 1000)) await flush();
        if (stopped()) {
          await Promise.all(inFlight);
          throw stopError();
        }
        run.push(event);
      }
    }
    await flush();
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
  }
  const streams = await from.listStreams();
  let checkpoints = 0;
  if (options.fromCheckpoints !== undefined && options.toCheckpoints !== undefined) {
    for (const { stream } of streams) {
      const sessionId = sessionIdOfStream(stream);
      if (sessionId === undefined) continue;
      for (const found of await options.fromCheckpoints.list(sessionId)) {
        if (!found.ok) continue; // an unreadable document stays where it is; the log still records the checkpoint
        await options.toCheckpoints.save(found.document);
        checkpoints++;
      }
    }
  }
  const [source, target] = await Promise.all([logChecksum(from, total), logChecksum(to, total)]);
  if (source.events !== total || target.events !== total || source.checksum !== target.checksum) {
    throw new StorageError(
      `The copy does not read back the same: the source has ${source.events} events (${source.checksum}), the target ${target.events} (${target.checksum}).`,
    );
  }
  const targetStreams = (await to.listStreams()).length;
  if (targetStreams !== streams.length) {
    throw new StorageError(`The copy has ${targetStreams} streams where the source has ${streams.length}.`);
  }
  options.onProgress?.({ copied, total });
  return { alreadyThere: already, appended, events: total, streams: streams.length, checkpoints, checksum: source.checksum };
}
