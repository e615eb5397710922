import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sessionIdOfStream, type StoredEvent } from '../events/envelope.js';
import { InvalidArgumentError, UnknownSessionError } from '../errors.js';
import type { EventStore } from '../store/eventStore.js';
import { checkId, showId } from '../validation/ids.js';
import { appendedSince } from './appendedSince.js';

/**
 * Which sessions are active and when each was last made the one being
 * worked on (started, forked, resumed, or taken over by a handoff), as of
 * a log position. The current session is the active one made so last.
 */
interface Activity {
  /** The log position this was folded up to. */
  head: number;
  /** Per session: still active, and the position of its last activation. */
  sessions: Record<string, { active: boolean; activatedAt: number }>;
}

const ACTIVATIONS = new Set(['SessionStarted', 'SessionForked', 'SessionResumed', 'HandoffAccepted']);

/** The cache of {@link Activity}, beside the view snapshots: `.moai/cache/sessions.json`. */
const cacheFile = (dir: string): string => join(dir, 'cache', 'sessions.json');

/**
 * The sessions' activity as of the log's head: from the cache when it is
 * still the log's (its head not past the log's), folding only the events
 * after it; from the whole log otherwise. Reading it never writes: `remember`
 * keeps a fresh one for the next command.
 */
async function activityOf(store: EventStore, dir: string | undefined, appended?: readonly StoredEvent[]): Promise<{ activity: Activity; fresh: boolean }> {
  const head = await store.headPosition();
  let activity: Activity = { head: 0, sessions: {} };
  if (dir !== undefined) {
    try {
      const cached = JSON.parse(await readFile(cacheFile(dir), 'utf8')) as Activity;
      if (Number.isInteger(cached.head) && cached.head <= head && typeof cached.sessions === 'object' && cached.sessions !== null) activity = cached;
    } catch {
      // No cache, or one that cannot be read: fold the log.
    }
  }
  if (activity.head === head) return { activity, fresh: false };
  // Every session the log has, ended or not, so that one the cache does not know is found; from what the caller
  // appended when that is all the log has past the cache.
  const tail = appended === undefined ? undefined : appendedSince(appended, activity.head + 1, head);
  for await (const batch of tail === undefined ? store.readAllBatches({ fromPosition: activity.head + 1 }) : [tail]) {
    for (const event of batch) {
      const sessionId = sessionIdOfStream(event.stream);
      if (sessionId === undefined) continue;
      if (ACTIVATIONS.has(event.type)) activity.sessions[sessionId] = { active: true, activatedAt: event.position };
      else if (event.type === 'SessionEnded') activity.sessions[sessionId] = { active: false, activatedAt: activity.sessions[sessionId]?.activatedAt ?? event.position };
    }
  }
  activity.head = head;
  return { activity, fresh: true };
}

/** Keep the activity for the next command; a cache that cannot be written costs only speed. */
async function remember(dir: string, activity: Activity): Promise<void> {
  const file = cacheFile(dir);
  const temp = `${file}.${process.pid}.tmp`;
  await mkdir(join(dir, 'cache'), { recursive: true });
  await writeFile(temp, JSON.stringify(activity));
  await rename(temp, file);
}

/**
 * Bring the cache of which session is current up to the log's head (the
 * folder's writer does it after appending), so the next command finds it by
 * folding only what came after.
 */
export async function refreshSessionActivity(store: EventStore, dir: string, appended?: readonly StoredEvent[]): Promise<void> {
  const { activity, fresh } = await activityOf(store, dir, appended);
  if (fresh) await remember(dir, activity);
}

/** Options of {@link resolveSessionId}. */
export interface ResolveSessionOptions {
  /** The state folder whose cache speeds the look-up (read; written only when `writable`). */
  dir?: string;
  /** True when the caller is the folder's writer and may refresh the cache. */
  writable?: boolean;
}

/**
 * The session a command means. A typed id is the session of that id, or the
 * one session whose id starts with it (as git takes a commit's prefix);
 * several are refused with the candidates. No id means the current session:
 * the active one last started, forked, resumed or taken over by a handoff;
 * none, or only ended ones, is refused with what to do.
 *
 * @throws {UnknownSessionError} when no session has that id or prefix.
 * @throws {InvalidArgumentError} for an ambiguous prefix, or no current session.
 */
export async function resolveSessionId(store: EventStore, typed: string | undefined, options: ResolveSessionOptions = {}): Promise<string> {
  if (typed !== undefined) {
    checkId('session', typed); // a start of an id follows the id rule too, and a bad one is never echoed whole
    const stream = `session-${typed}`;
    if ((await store.streamVersion(stream)) > 0) return typed; // the exact id: no look-up of the others
    const known = await knownSessionIds(store);
    const matches = known.filter((id) => id.startsWith(typed));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new InvalidArgumentError(
        `${showId(typed)} is the start of ${matches.length} sessions' ids: ${listed(matches)}. Type more of the one you mean.`,
      );
    }
    throw new UnknownSessionError(typed, known);
  }
  const { activity, fresh } = await activityOf(store, options.dir);
  if (fresh && options.writable === true && options.dir !== undefined) await remember(options.dir, activity).catch(() => undefined);
  const active = Object.entries(activity.sessions)
    .filter(([, session]) => session.active)
    .sort(([, a], [, b]) => b.activatedAt - a.activatedAt);
  const current = active[0];
  if (current !== undefined) return current[0];
  const known = Object.keys(activity.sessions);
  throw new InvalidArgumentError(
    known.length === 0
      ? 'No session yet, so none is current: start one (`moai-session start --agent A --model M`).'
      : `No session is active, so none is current (the log has ${listed(known)}, all ended): name one, or start a new session.`,
  );
}

/** Every session id in the log, in the order of their first events. */
async function knownSessionIds(store: EventStore): Promise<string[]> {
  return (await store.listStreams()).map((info) => sessionIdOfStream(info.stream)).filter((id): id is string => id !== undefined);
}

const listed = (ids: readonly string[]): string => `${ids.slice(0, 10).join(', ')}${ids.length > 10 ? `, ... (${ids.length} in all)` : ''}`;
