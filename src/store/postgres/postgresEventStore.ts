import pg from 'pg';
import type { Pool, PoolConfig } from 'pg';
import type { Observable } from 'rxjs';
import type { NewEvent, StoredEvent } from '../../events/envelope.js';
import { CURRENT_SCHEMA_VERSIONS } from '../../events/eventTypes.js';
import { parseStoredEvent } from '../../events/validate.js';
import { ExpectedVersionConflictError, InvalidArgumentError, StoreClosedError, StorageError } from '../../errors.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ExpectedVersion,
  ReadAllOptions,
  ReadStreamOptions,
  StreamInfo,
  SubscribeOptions,
} from '../eventStore.js';
import { LiveFollower } from '../liveFollower.js';
import { checkReadBounds } from '../readBounds.js';
import { acceptNewEvents, toStoredEvent } from '../toStoredEvent.js';
import { POSTGRES_STORE_BRAND } from '../../checkpoints/postgresCheckpointStore.js';
import { EXCLUSIVE_WORK, type ExclusiveWork } from './exclusive.js';
import { IMPORT_EVENTS, type ImportEvents } from './bulkImport.js';
import { AppendQueue, type AppendOutcome, type QueuedAppend } from './appendQueue.js';
import { migrate, schemaVersion, LATEST_SCHEMA_VERSION } from './migrations.js';
import { NotifyListener } from './notifyListener.js';
import { isConnectionError, sleep, storageErrorOf } from './pgErrors.js';
import { channelOf, checkSchemaName, DEFAULT_SCHEMA, parsePostgresUrl, quoted } from './postgresTarget.js';

/** Options of {@link openPostgresEventStore}: a pool of yours, or a URL the store opens its own pool for. */
export interface PostgresEventStoreOptions {
  /** A node-postgres pool; the store uses it and leaves it open on close. */
  pool?: Pool;
  /** A `postgres://` URL (`?schema=` picks the schema); the store opens and closes its own pool. */
  url?: string;
  /** The schema of the store's tables; defaults to the URL's `?schema=`, else `moai`. */
  schema?: string;
  /**
   * Create or upgrade the schema on open (default true); with false, a
   * schema that is missing or behind is refused (run `moai-session db migrate`).
   */
  migrate?: boolean;
  /** Connections of the store's own pool (default 10). */
  maxConnections?: number;
  /** How often a live subscription also looks for new events, in ms, in case a notification was missed (default 1000). */
  pollIntervalMs?: number;
  /** How long an append or a subscription keeps trying to reach a server that went away, in ms (default 30000). */
  reconnectTimeoutMs?: number;
  /** What the store noticed (a lost connection, a reconnect). */
  onWarning?: (warning: { code: string; message: string }) => void;
}

/** The PostgreSQL store: an {@link EventStore} plus where it keeps its tables. */
export interface PostgresEventStore extends EventStore {
  /** The schema of its tables. */
  readonly schema: string;
  /** The pool it runs its queries on. */
  readonly pool: Pool;
}

const EXPECTED_CODES: Record<string, number> = { any: -1, no_stream: -2, stream_exists: -3 };
const PAGE = 2000;
const COLUMNS = 'position, stream, version, id, type, schema_version, meta, data';
type Row = [string, string, string, string, string, number, string, string];

/**
 * Open the PostgreSQL event store: one log many processes on many machines
 * append to and follow. Positions are gapless and in commit order (one
 * position lock per schema, taken by the append function), expected versions
 * are checked by the database, concurrent appends of one process go together
 * in one statement, and live subscriptions are woken by LISTEN/NOTIFY.
 *
 * @example
 * const store = await openPostgresEventStore({ url: 'postgres://localhost/moai?schema=agents' });
 * const engine = await createEngine({ store });
 */
export async function openPostgresEventStore(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
  if ((options.pool === undefined) === (options.url === undefined)) {
    throw new InvalidArgumentError('openPostgresEventStore takes a pool or a url (one of them).');
  }
  const parsed = options.url === undefined ? undefined : parsePostgresUrl(options.url);
  const schema = checkSchemaName(options.schema ?? parsed?.schema ?? DEFAULT_SCHEMA);
  const ownsPool = options.pool === undefined;
  const config: PoolConfig = { connectionString: parsed?.connectionString, max: options.maxConnections ?? 10 };
  const pool = options.pool ?? new pg.Pool(config);
  const password = passwordOf(parsed?.connectionString);
  const where = `${hostOf(parsed?.connectionString)} schema ${schema}`;
  const warn = (code: string, error: unknown): void =>
    options.onWarning?.({ code, message: storageErrorOf(error, 'a connection', where, password).message });
  // An idle connection the server drops must not end the process: it is reconnected on next use.
  const onPoolError = (error: Error): void => warn('POSTGRES_CONNECTION_LOST', error);
  pool.on('error', onPoolError);
  try {
    await untilServerAnswers(
      async () => {
        if (options.migrate === false) await checkSchemaCurrent(pool, schema);
        else await migrate(pool, schema);
      },
      options.reconnectTimeoutMs ?? 30_000,
    );
  } catch (error) {
    pool.off('error', onPoolError);
    if (ownsPool) await pool.end().catch(() => {});
    throw error instanceof StorageError ? error : storageErrorOf(error, 'opening the store', where, password);
  }
  return createStore({
    pool,
    schema,
    ownsPool,
    where,
    password,
    onPoolError,
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    reconnectTimeoutMs: options.reconnectTimeoutMs ?? 30_000,
    warn,
  });
}

/** Refuse a schema that is missing or behind (or newer, which schemaVersion refuses). */
async function checkSchemaCurrent(pool: Pool, schema: string): Promise<void> {
  const version = await schemaVersion(pool, schema);
  if (version < LATEST_SCHEMA_VERSION) {
    throw new StorageError(
      `The PostgreSQL schema ${schema} is at version ${version}, this moai-session needs ${LATEST_SCHEMA_VERSION}: run \`moai-session db migrate\`.`,
    );
  }
}

/**
 * Run `work`, again while the server says it is starting up or shutting down
 * (a restart) for up to `timeoutMs`, and while it refuses connections for up
 * to 3 s (a restart's gap; longer, and the URL is more likely wrong).
 */
async function untilServerAnswers(work: () => Promise<void>, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (let pause = 50; ; pause = Math.min(1000, pause * 2)) {
    try {
      return await work();
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      const restarting = typeof code === 'string' && /^57P0[123]$/.test(code);
      const refused = code === 'ECONNREFUSED';
      const limit = restarting ? timeoutMs : refused ? Math.min(3000, timeoutMs) : 0;
      if (Date.now() - started + pause > limit) throw error;
      await sleep(pause);
    }
  }
}

interface StoreParts {
  pool: Pool;
  schema: string;
  ownsPool: boolean;
  where: string;
  password: string | undefined;
  onPoolError: (error: Error) => void;
  pollIntervalMs: number;
  reconnectTimeoutMs: number;
  warn(code: string, error: unknown): void;
}

function createStore(parts: StoreParts): PostgresEventStore {
  const { pool, schema, where, password } = parts;
  const s = quoted(schema);
  const sql = {
    append: { name: `moai-append-${schema}`, text: `SELECT ordinal, actual, first_position FROM ${s}.append_events($1, $2)` },
    page: `SELECT ${COLUMNS} FROM ${s}.events WHERE position >= $1 AND position <= $2 ORDER BY position LIMIT $3`,
    streamPage: `SELECT ${COLUMNS} FROM ${s}.events WHERE stream = $1 AND version >= $2 AND version <= $3 ORDER BY version LIMIT $4`,
    version: `SELECT version FROM ${s}.streams WHERE stream = $1`,
    streams: `SELECT stream, version, first_position, last_position FROM ${s}.streams ORDER BY first_position`,
    head: `SELECT position FROM ${s}.head WHERE id = 1`,
    importEvents: { name: `moai-import-${schema}`, text: `SELECT ${s}.import_events($1)` },
    findIds: `SELECT stream, id, position, version FROM ${s}.events WHERE stream = ANY($1) AND id = ANY($2)`,
  };
  let closed = false;
  const fail = (error: unknown, doing: string): never => {
    if (error instanceof StorageError || error instanceof ExpectedVersionConflictError) throw error;
    throw storageErrorOf(error, doing, where, password);
  };
  const ensureOpen = (): void => {
    if (closed) throw new StoreClosedError();
  };
  const query = async <T>(text: string | { name: string; text: string }, values: unknown[], doing: string): Promise<T[]> => {
    try {
      const config = typeof text === 'string' ? { text, values, rowMode: 'array' as const } : { ...text, values, rowMode: 'array' as const };
      return (await pool.query(config)).rows as T[];
    } catch (error) {
      return fail(error, doing);
    }
  };

  /** Until the server answers again or the reconnect time is up: `attempt` tried after each pause. */
  const withReconnect = async <T>(attempt: () => Promise<T>, doing: string): Promise<T> => {
    const deadline = Date.now() + parts.reconnectTimeoutMs;
    let pause = 50;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        const cause = error instanceof StorageError ? error.cause : error;
        if (!isConnectionError(cause) || Date.now() + pause > deadline || closed) throw error;
        parts.warn('POSTGRES_RECONNECTING', cause);
        await sleep(pause);
        pause = Math.min(1000, pause * 2);
      }
    }
  };

  const sendOnce = async (group: readonly QueuedAppend[]): Promise<AppendOutcome[]> => {
    // Two JSON documents, read by json_to_recordset: parsed once on the server, no array escaping.
    // Meta and data go as JSON text inside them and are kept as text: PostgreSQL's json cannot hold
    // every string JSON.stringify writes (\u0000, a lone surrogate), and the store validates anyway.
    const appends: { o: number; s: string; e: number; n: number }[] = [];
    const events: { a: number; k: number; i: string; t: string; v: number; m: string; d: string }[] = [];
    group.forEach((append, index) => {
      appends.push({
        o: index + 1,
        s: append.stream,
        e: typeof append.expected === 'number' ? append.expected : EXPECTED_CODES[append.expected]!,
        n: append.events.length,
      });
      append.events.forEach((event, k) => {
        events.push({
          a: index + 1,
          k: k + 1,
          i: event.id,
          t: event.type,
          v: CURRENT_SCHEMA_VERSIONS[event.type],
          m: JSON.stringify(event.meta),
          d: JSON.stringify(event.data),
        });
      });
    });
    const rows = await query<[number, string, string | null]>(sql.append, [JSON.stringify(appends), JSON.stringify(events)], 'an append');
    return rows.map(([, actual, first]) => ({ actual: Number(actual), firstPosition: first === null ? undefined : Number(first) }));
  };

  /**
   * Send a group; when the connection drops on the way, the outcome is not
   * known: once the server answers again, the appends whose events are
   * stored (found by id in their stream) are taken as written, and the
   * others are sent again. So an append is never written twice.
   */
  const send = async (group: readonly QueuedAppend[]): Promise<AppendOutcome[]> => {
    try {
      return await sendOnce(group);
    } catch (error) {
      if (!isConnectionError((error as StorageError).cause)) throw error;
      parts.warn('POSTGRES_RECONNECTING', (error as StorageError).cause);
      return withReconnect(async () => {
        const written = await writtenAlready(group);
        const resend = group.filter((_, index) => written[index] === undefined);
        const again = resend.length === 0 ? [] : await sendOnce(resend);
        return group.map((_, index) => written[index] ?? again.shift()!);
      }, 'an append');
    }
  };

  const writtenAlready = async (group: readonly QueuedAppend[]): Promise<(AppendOutcome | undefined)[]> => {
    const firstIds = group.map((append) => append.events[0]?.id);
    const wanted = group.filter((_, i) => firstIds[i] !== undefined);
    if (wanted.length === 0) return group.map(() => undefined);
    const rows = await query<[string, string, string, string]>(
      sql.findIds,
      [wanted.map((a) => a.stream), wanted.map((a) => a.events[0]!.id)],
      'checking an interrupted append',
    );
    const found = new Map(rows.map(([stream, id, position, version]) => [`${stream}\n${id}`, { position: Number(position), version: Number(version) }]));
    return group.map((append, index) => {
      const hit = firstIds[index] === undefined ? undefined : found.get(`${append.stream}\n${firstIds[index]}`);
      return hit === undefined ? undefined : { actual: hit.version - 1, firstPosition: hit.position };
    });
  };

  // Small appends go one group at a time: groups serialise on the position lock anyway, and a group
  // waiting behind another grows, so each commit (one WAL flush, held under the lock) carries more
  // appends. Large ones (hundreds of events waiting) go two at a time: the second parses its JSON
  // on the server while the first holds the lock.
  const queue = new AppendQueue(send, { maxEvents: 400, maxInFlight: 2, pipelineMinEvents: 200 });

  const toEvent = (row: Row): StoredEvent => {
    const value = {
      position: Number(row[0]),
      stream: row[1],
      version: Number(row[2]),
      id: row[3],
      type: row[4],
      schemaVersion: row[5],
      meta: parseJson(row[6], row[0], 'meta'),
      data: parseJson(row[7], row[0], 'data'),
    };
    return parseStoredEvent(value, () => `${schema}.events position ${row[0]}`);
  };

  const parseJson = (text: string, position: string, column: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new StorageError(`${schema}.events position ${position}: its ${column} is not JSON (${(error as Error).message}).`);
    }
  };

  /** Pages of events by position, the next page asked for while the current one is handed out. */
  async function* pages(from: number, to: number, resilient: boolean): AsyncIterable<readonly StoredEvent[]> {
    const fetch = (start: number): Promise<Row[]> => {
      const run = (): Promise<Row[]> => query<Row>(sql.page, [start, to, PAGE], 'a read');
      const rows = resilient ? withReconnect(run, 'a read') : run();
      rows.catch(() => {}); // awaited below; a prefetch abandoned by a consumer that stopped must not go unhandled
      return rows;
    };
    let next: Promise<Row[]> | undefined = from <= to ? fetch(from) : undefined;
    while (next !== undefined) {
      const rows = await next;
      next = undefined;
      if (rows.length === 0) return;
      const last = Number(rows[rows.length - 1]![0]);
      if (rows.length === PAGE && last < to) next = fetch(last + 1);
      yield rows.map(toEvent);
    }
  }

  const listener = new NotifyListener(pool, channelOf(schema), (error) => parts.warn('POSTGRES_LISTEN_LOST', error));
  const follower = new LiveFollower({
    readFrom: (from) => pages(from, Number.MAX_SAFE_INTEGER, true),
    headPosition: () => withReconnect(() => store.headPosition(), 'reading the head position'),
    watch: (wake) => {
      const unlisten = listener.watch(wake);
      const timer = setInterval(wake, parts.pollIntervalMs);
      return () => {
        clearInterval(timer);
        unlisten();
      };
    },
  });

  let closing: Promise<void> | undefined;
  /** An advisory lock of the schema and `name`, held on its own connection while `work` runs. */
  const exclusive: ExclusiveWork = async (name, work) => {
    ensureOpen();
    const key = `moai-session ${schema} ${name}`;
    const client = await withReconnect(async () => {
      try {
        return await pool.connect();
      } catch (error) {
        return fail(error, 'taking a lock');
      }
    }, 'taking a lock');
    let broken: Error | undefined;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]).catch((error: unknown) => fail(error, `taking the lock ${name}`));
      try {
        return await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch((error: unknown) => {
          broken = error as Error; // a lost connection has released the lock already
        });
      }
    } finally {
      client.release(broken);
    }
  };

  const importEvents: ImportEvents = async (events) => {
    ensureOpen();
    if (events.length === 0) return;
    await queue.drain(); // after this store's own appends, never between them
    const rows = events.map((e) => ({
      p: e.position,
      s: e.stream,
      n: e.version,
      i: e.id,
      t: e.type,
      v: e.schemaVersion,
      m: JSON.stringify(e.meta),
      d: JSON.stringify(e.data),
    }));
    await query(sql.importEvents, [JSON.stringify(rows)], 'an import of events');
  };

  const store: PostgresEventStore & { [POSTGRES_STORE_BRAND]: true; [EXCLUSIVE_WORK]: ExclusiveWork; [IMPORT_EVENTS]: ImportEvents } = {
    [POSTGRES_STORE_BRAND]: true,
    [EXCLUSIVE_WORK]: exclusive,
    [IMPORT_EVENTS]: importEvents,
    schema,
    pool,

    async append(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
      ensureOpen();
      acceptNewEvents(stream, events);
      const expected: ExpectedVersion = options.expectedVersion ?? 'any';
      if (typeof expected === 'number' && !(Number.isSafeInteger(expected) && expected >= 0)) {
        throw new InvalidArgumentError(`expectedVersion is a version (a whole number, 0 or more) or any, no_stream, stream_exists; got ${expected}.`);
      }
      const outcome = await queue.push({ stream, events, expected });
      if (outcome.firstPosition === undefined) throw new ExpectedVersionConflictError(stream, expected, outcome.actual);
      const first = outcome.firstPosition;
      const stored = events.map((event, index) => toStoredEvent(event, stream, outcome.actual + index + 1, first + index));
      return { stream, nextExpectedVersion: outcome.actual + events.length, events: stored };
    },

    async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<StoredEvent> {
      ensureOpen();
      checkReadBounds({ fromVersion: options.fromVersion, toVersion: options.toVersion });
      let from = Math.max(1, options.fromVersion ?? 1);
      const to = options.toVersion ?? Number.MAX_SAFE_INTEGER;
      while (from <= to) {
        const rows = await query<Row>(sql.streamPage, [stream, from, to, PAGE], 'a read of a stream');
        for (const row of rows) yield toEvent(row);
        if (rows.length < PAGE) return;
        from = Number(rows[rows.length - 1]![2]) + 1;
      }
    },

    async *readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
      for await (const batch of store.readAllBatches(options)) yield* batch;
    },

    async *readAllBatches(options: ReadAllOptions = {}): AsyncIterable<readonly StoredEvent[]> {
      ensureOpen();
      checkReadBounds({ fromPosition: options.fromPosition, toPosition: options.toPosition });
      yield* pages(Math.max(1, options.fromPosition ?? 1), options.toPosition ?? Number.MAX_SAFE_INTEGER, false);
    },

    async streamVersion(stream: string): Promise<number> {
      ensureOpen();
      const rows = await query<[string]>(sql.version, [stream], 'reading a stream version');
      return rows.length === 0 ? 0 : Number(rows[0]![0]);
    },

    async listStreams(): Promise<StreamInfo[]> {
      ensureOpen();
      const rows = await query<[string, string, string, string]>(sql.streams, [], 'listing the streams');
      return rows.map(([stream, version, first, last]) => ({
        stream,
        version: Number(version),
        firstPosition: Number(first),
        lastPosition: Number(last),
      }));
    },

    async headPosition(): Promise<number> {
      ensureOpen();
      const rows = await query<[string]>(sql.head, [], 'reading the head position');
      return rows.length === 0 ? 0 : Number(rows[0]![0]);
    },

    subscribe(options: SubscribeOptions = {}): Observable<StoredEvent> {
      ensureOpen();
      return follower.follow(options);
    },

    close(): Promise<void> {
      if (closing !== undefined) return closing;
      closed = true;
      closing = (async () => {
        await queue.drain();
        follower.completeAll();
        listener.stop();
        pool.off('error', parts.onPoolError);
        if (parts.ownsPool) await pool.end().catch(() => {});
      })();
      return closing;
    },
  };
  return store;
}

/** The password of a connection string, to hide it wherever a driver message repeats it. */
function passwordOf(connectionString: string | undefined): string | undefined {
  if (connectionString === undefined) return undefined;
  try {
    const password = decodeURIComponent(new URL(connectionString).password);
    return password === '' ? undefined : password;
  } catch {
    return undefined;
  }
}

/** `host:port/database` of a connection string, for messages (never the password). */
function hostOf(connectionString: string | undefined): string {
  if (connectionString === undefined) return '(a pool given by the caller)';
  try {
    const url = new URL(connectionString);
    return `${url.host || 'localhost'}${url.pathname}`;
  } catch {
    return '(an unreadable URL)';
  }
}
