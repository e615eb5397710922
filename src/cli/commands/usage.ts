import { windowOf } from '../../engine/decideBudget.js';
import { CliUsageError, EXIT } from '../exitCodes.js';
import { percent, tokens } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
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
  /** The Messages API's `usage` object as JSON, instead of the four counts. */
  usageJson?: string;
  /** The model that spent the tokens; defaults to the session's. */
  model?: string;
  /** A subagent's call: it spends without filling the main context. */
  sidechain?: boolean;
  agent?: string;
}

/** The API `usage` object the options give, or an error naming the option that is wrong or missing. */
export function usageFromOptions(options: UsageCommandOptions): unknown {
  const counts = [options.input, options.output, options.cacheCreation, options.cacheRead];
  if (options.usageJson !== undefined) {
    if (counts.some((count) => count !== undefined)) {
      throw new CliUsageError('Give either --usage-json or --input and --output (with the cache counts), not both.');
    }
    return parseJsonArgument('--usage-json', options.usageJson);
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
    input_tokens: input,
    output_tokens: output,
    cache_creation_input_tokens: cacheCreation,
    cache_read_input_tokens: cacheRead,
  };
}

/**
 * `moai-session usage <sessionId>`: record one API call's token usage. A
 * threshold crossed is recorded with it and sets the policies off (tasks to
 * token_warning, a checkpoint); each of those events is printed.
 */
export async function usageCommand(options: UsageCommandOptions, io: CliIo): Promise<number> {
  const usage = usageFromOptions(options);
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const session = await run.engine.openSession(sessionId);
      await session.recordUsage(usage, {
        main: options.sidechain !== true,
        ...(options.model === undefined ? {} : { model: options.model }),
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
        `Recorded ${options.sidechain === true ? 'sidechain ' : ''}usage in session ${sessionId}` +
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
