import { InvalidArgumentError } from '../../errors.js';
import type { ContextItem, ContextKind, ContextTier } from '../../projections/contextItems.js';
import { EXIT } from '../exitCodes.js';
import { table } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { printWrite } from '../output.js';
import { sessionOf, sessionToRead, withEngine, withReadOnlyEngine } from '../stateFolder.js';

/** Options of `moai-session context add`. */
export interface ContextAddCommandOptions extends GlobalOptions {
  /** The item's text. */
  text: string;
  tier: string;
  kind?: string;
  tag?: string;
  /** Its size in tokens, when known. */
  tokens?: string;
  /** Take the text as a JSON value instead. */
  jsonValue?: boolean;
  /** The session (its id or a unique start of it); undefined: the current session. */
  session?: string;
  agent?: string;
}

/** Options of `moai-session context drop`. */
export interface ContextDropCommandOptions extends GlobalOptions {
  /** The item: its id or its tag. */
  item: string;
  reason?: string;
  session?: string;
  agent?: string;
}

/** Options of `moai-session context list`. */
export interface ContextListCommandOptions extends GlobalOptions {
  session?: string;
  tier?: string;
  /** Show the session as it was at this version. */
  at?: string;
}

/** Options of `moai-session context show`. */
export interface ContextShowCommandOptions extends GlobalOptions {
  session?: string;
  /** `text` (default) or `json`. */
  format?: string;
  /** The most characters the text may have. */
  maxChars?: string;
  at?: string;
}

const TIERS: readonly ContextTier[] = ['critical', 'supporting', 'temporary'];
const KINDS: readonly ContextKind[] = ['objective', 'constraint', 'preference', 'summary', 'note'];

function tierOf(option: string, value: string): ContextTier {
  if ((TIERS as readonly string[]).includes(value)) return value as ContextTier;
  throw new InvalidArgumentError(`${option} is one of ${TIERS.join(', ')}; got ${JSON.stringify(value)}.`);
}

function kindOf(value: string): ContextKind {
  if ((KINDS as readonly string[]).includes(value)) return value as ContextKind;
  throw new InvalidArgumentError(`--kind is one of ${KINDS.join(', ')}; got ${JSON.stringify(value)}.`);
}

function wholeNumber(option: string, value: string | undefined, least: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < least) {
    throw new InvalidArgumentError(`${option} is a whole number of at least ${least}; got ${JSON.stringify(value)}.`);
  }
  return Number(value);
}

/** An item's content in one line of at most 100 characters, for tables. */
const preview = (item: ContextItem): string => {
  const text = (item.text ?? JSON.stringify(item.value) ?? '').replace(/\s*\r?\n\s*/g, ' / ');
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
};

/** A context item as `--json` prints it: every key, null when not known. */
const itemJson = (item: ContextItem) => ({
  itemId: item.itemId,
  tier: item.tier,
  kind: item.kind ?? null,
  tag: item.tag ?? null,
  ...(item.text === undefined ? { value: item.value } : { text: item.text }),
  tokens: item.tokens ?? null,
  source: item.source ?? null,
  recordedAt: item.recordedAt,
  updatedAt: item.updatedAt,
  version: item.version,
});

/**
 * `moai-session context add <text> --tier critical|supporting|temporary
 * [--kind K] [--tag T]`: record a context item in the current session (or
 * `--session`). A tag the session already has updates that item.
 */
export async function contextAddCommand(options: ContextAddCommandOptions, io: CliIo): Promise<number> {
  const tier = tierOf('--tier', options.tier);
  const kind = options.kind === undefined ? undefined : kindOf(options.kind);
  const tokens = wholeNumber('--tokens', options.tokens, 0);
  let value: unknown;
  if (options.jsonValue === true) {
    try {
      value = JSON.parse(options.text) as unknown;
    } catch (error) {
      throw new InvalidArgumentError(`With --json-value the text is a JSON value: ${(error as Error).message}.`);
    }
  }
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.session);
      const session = await run.engine.openSession(sessionId);
      const existed = options.tag === undefined ? undefined : session.contextItems().find((item) => item.tag === options.tag);
      const item = await session.recordContext(
        {
          tier,
          ...(options.jsonValue === true ? { value } : { text: options.text }),
          ...(kind === undefined ? {} : { kind }),
          ...(options.tag === undefined ? {} : { tag: options.tag }),
          ...(tokens === undefined ? {} : { tokens }),
          source: 'cli',
        },
        options.agent,
      );
      const what = `${item.tier}${item.kind === undefined ? '' : ` ${item.kind}`} item ${item.itemId}${item.tag === undefined ? '' : ` (${item.tag})`}`;
      printWrite(
        options,
        io,
        run,
        run.appended.length === 0
          ? `Session ${sessionId} already has the ${what} as given: nothing recorded.`
          : `${existed === undefined ? 'Recorded' : 'Updated'} the ${what} in session ${sessionId} at version ${session.state.version}.`,
        { sessionId, item: itemJson(item), updated: existed !== undefined },
      );
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}

/** `moai-session context drop <id|tag>`: drop a context item of the current session (or `--session`). */
export async function contextDropCommand(options: ContextDropCommandOptions, io: CliIo): Promise<number> {
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.session);
      const session = await run.engine.openSession(sessionId);
      const item = session.contextItems().find((i) => i.itemId === options.item) ?? session.contextItems().find((i) => i.tag === options.item);
      await session.dropContext(options.item, options.reason ?? 'requested', options.agent);
      const name = item === undefined ? options.item : `${item.itemId}${item.tag === undefined ? '' : ` (${item.tag})`}`;
      printWrite(options, io, run, `Dropped context item ${name} of session ${sessionId} at version ${session.state.version}.`, {
        sessionId,
        itemId: item?.itemId ?? options.item,
        version: session.state.version,
      });
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}

/** `moai-session context list [--tier T] [--at V]`: the current context items of a session, most important first. */
export async function contextListCommand(options: ContextListCommandOptions, io: CliIo): Promise<number> {
  const tier = options.tier === undefined ? undefined : tierOf('--tier', options.tier);
  const at = wholeNumber('--at', options.at, 1);
  return withReadOnlyEngine(options, io, async (engine) => {
    const sessionId = await sessionToRead(engine.store, options, io, options.session);
    const view = await engine.sessionState(sessionId, at === undefined ? {} : { atVersion: at });
    const { contextItemsInOrder } = await import('../../projections/contextItems.js');
    const items = contextItemsInOrder(view.context).filter((item) => tier === undefined || item.tier === tier);
    if (options.json) {
      io.stdout(`${JSON.stringify({ sessionId, version: view.version, items: items.map(itemJson) }, null, 2)}\n`);
      return EXIT.ok;
    }
    const heading = `Context of session ${sessionId} at version ${view.version}${tier === undefined ? '' : ` (${tier})`}`;
    if (items.length === 0) {
      io.stdout(`${heading}: no items. Add one with \`moai-session context add <text> --tier critical\`.\n`);
      return EXIT.ok;
    }
    io.stdout(
      `${heading}: ${items.length} item${items.length === 1 ? '' : 's'}\n` +
        table([
          ['id', 'tier', 'kind', 'tag', 'tokens', 'text'],
          ...items.map((item) => [item.itemId, item.tier, item.kind ?? '', item.tag ?? '', item.tokens === undefined ? '' : String(item.tokens), preview(item)]),
        ]) +
        '\n',
    );
    return EXIT.ok;
  });
}

/**
 * `moai-session context show [--format text|json] [--max-chars N]`: the
 * re-injectable context of a session (what an agent needs after a restart, a
 * compaction or a handoff), most important first, within N characters.
 */
export async function contextShowCommand(options: ContextShowCommandOptions, io: CliIo): Promise<number> {
  const format = options.format ?? (options.json ? 'json' : 'text');
  if (format !== 'text' && format !== 'json') throw new InvalidArgumentError(`--format is text or json; got ${JSON.stringify(format)}.`);
  const { buildSessionContext, formatSessionContext, MIN_CONTEXT_MAX_CHARS } = await import('../../context/sessionContext.js');
  const maxChars = wholeNumber('--max-chars', options.maxChars, MIN_CONTEXT_MAX_CHARS);
  const at = wholeNumber('--at', options.at, 1);
  return withReadOnlyEngine(options, io, async (engine) => {
    const sessionId = await sessionToRead(engine.store, options, io, options.session);
    const view = await engine.sessionState(sessionId, at === undefined ? {} : { atVersion: at });
    const context = buildSessionContext(view, { contextWindows: engine.settings.budget.contextWindows, thresholds: engine.settings.budget.thresholds });
    if (format === 'json') {
      const text = formatSessionContext(context, maxChars === undefined ? {} : { maxChars });
      io.stdout(`${JSON.stringify({ ...context, text }, null, 2)}\n`);
    } else {
      io.stdout(formatSessionContext(context, maxChars === undefined ? {} : { maxChars }));
    }
    return EXIT.ok;
  });
}
