import { windowOf } from '../../engine/decideBudget.js';
import { CliUsageError, EXIT } from '../exitCodes.js';
import { percent, tokens } from '../format.js';
import { readProcessStdin, type CliIo, type GlobalOptions } from '../io.js';
import { printWrite } from '../output.js';
import { parseJsonArgument, parseTokenCount } from '../parse.js';
import { sessionOf, withEngine } from '../stateFolder.js';

/** Options of `moai-session usage`; the counts as typed. */
export interface UsageCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  input?: string;
  output?: string;
  cacheCreation?: string;
  cacheRead?: string;
  /**
   * As JSON, instead of the four counts: the Messages API's `usage` object, a
   * whole Messages API response, or a Claude Code transcript line (its
   * `message.usage`); `-` reads it from standard input.
   */
  usageJson?: string;
  /** The model that spent the tokens; defaults to the session's. */
  model?: string;
  /** A subagent's call: it spends without filling the main context. */
  sidechain?: boolean;
  agent?: string;
}

/** One call's usage as the options give it, and what the JSON said of the call besides. */
export interface UsageInput {
  /** The API `usage` object. */
  usage: unknown;
  /** The model the response or transcript line names. */
  model?: string;
  /** The request or message id the response or transcript line carries. */
  requestId?: string;
  /** A transcript line's `isSidechain`. */
  sidechain?: boolean;
}

/**
 * The usage the options give: `--input`/`--output` and the cache counts, or
 * `--usage-json` (from standard input when it is `-`) holding the `usage`
 * object, a whole Messages API response, or a Claude Code transcript line.
 * An error names the option that is wrong or missing.
 */
export async function usageFromOptions(options: UsageCommandOptions, io: CliIo): Promise<UsageInput> {
  const counts = [options.input, options.output, options.cacheCreation, options.cacheRead];
  if (options.usageJson !== undefined) {
    if (counts.some((count) => count !== undefined)) {
      throw new CliUsageError('Give either --usage-json or --input and --output (with the cache counts), not both.');
    }
    const text = options.usageJson === '-' ? await (io.readStdin ?? readProcessStdin)() : options.usageJson;
    return usageOfJson(parseJsonArgument(options.usageJson === '-' ? '--usage-json (standard input)' : '--usage-json', text.trim()));
  }
  const input = parseTokenCount('--input', options.input);
  const output = parseTokenCount('--output', options.output);
  const cacheCreation = parseTokenCount('--cache-creation', options.cacheCreation) ?? 0;
  const cacheRead = parseTokenCount('--cache-read', options.cacheRead) ?? 0;
  if (input === undefined || output === undefined) {
    throw new CliUsageError(
      `usage needs ${input === undefined ? '--input' : '--output'} (--input N --output N, or --usage-json with the API's usage object).`,
    );
  }
  return {
    usage: {
      input_tokens: input,
      output_tokens: output,
      cache_creation_input_tokens: cacheCreation,
      cache_read_input_tokens: cacheRead,
    },
  };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const stringOf = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** What a usage JSON is: a transcript line (`message.usage`), a Messages API response (`usage`), or the usage object itself. */
function usageOfJson(value: unknown): UsageInput {
  if (isObject(value) && isObject(value.message) && isObject(value.message.usage)) {
    const input: UsageInput = { usage: value.message.usage };
    const model = stringOf(value.message.model);
    const requestId = stringOf(value.requestId) ?? stringOf(value.message.id);
    if (model !== undefined) input.model = model;
    if (requestId !== undefined) input.requestId = requestId;
    if (typeof value.isSidechain === 'boolean') input.sidechain = value.isSidechain;
    return input;
  }
  if (isObject(value) && isObject(value.usage)) {
    const input: UsageInput = { usage: value.usage };
    const model = stringOf(value.model);
    const requestId = stringOf(value.id);
    if (model !== undefined) input.model = model;
    if (requestId !== undefined) input.requestId = requestId;
    return input;
  }
  return { usage: value };
}

/**
 * `moai-session usage <sessionId>`: record one API call's token usage. A
 * threshold crossed is recorded with it and sets the policies off (tasks to
 * token_warning, a checkpoint); each of those events is printed.
 */
export async function usageCommand(options: UsageCommandOptions, io: CliIo): Promise<number> {
  const given = await usageFromOptions(options, io);
  const model = options.model ?? given.model;
  const sidechain = options.sidechain === true || given.sidechain === true;
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const session = await run.engine.openSession(sessionId);
      await session.recordUsage(given.usage, {
        main: !sidechain,
        ...(model === undefined ? {} : { model }),
        ...(given.requestId === undefined ? {} : { requestId: given.requestId }),
        ...(options.agent === undefined ? {} : { agent: options.agent }),
      });
      const budget = session.budget();
      const recorded = run.appended.find((event) => event.type === 'TokenUsageRecorded');
      const u = recorded?.type === 'TokenUsageRecorded' ? recorded.data : undefined;
      const window = windowOf(budget.model, run.engine.settings.budget);
      printWrite(
        options,
        io,
        run,
        `Recorded ${sidechain ? 'sidechain ' : ''}usage in session ${sessionId}` +
          (u === undefined
            ? ''
            : ` (in ${tokens(u.inputTokens)}, out ${tokens(u.outputTokens)}, cache write ${tokens(u.cacheCreationInputTokens)}, cache read ${tokens(u.cacheReadInputTokens)})`) +
          `: context ${tokens(budget.contextTokens)}` +
          (window === undefined || budget.percent === undefined
            ? ` tokens (no known context window for ${budget.model}).`
            : ` of ${tokens(window)} tokens (${percent(budget.percent)}, level ${budget.level ?? 'unknown'}).`),
        {
          sessionId: sessionId,
          version: session.state.version,
          contextTokens: budget.contextTokens,
          contextWindow: budget.contextWindow ?? null,
          percent: budget.percent ?? null,
          level: budget.level ?? null,
        },
      );
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}
