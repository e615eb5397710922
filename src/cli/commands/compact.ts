import { EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { printWrite } from '../output.js';
import { parseTokenCount } from '../parse.js';
import { sessionOf, withEngine } from '../stateFolder.js';
import { groupDigits } from '../../util/groupDigits.js';

/** Options of `moai-session compact`. */
export interface CompactCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  /** The context in use after the compaction, in tokens, as typed. */
  tokensAfter: string;
  summary?: string;
  /** Why; defaults to `requested`. */
  trigger?: string;
}

/**
 * `moai-session compact <sessionId> --tokens-after N`: record a compaction
 * the agent did (Claude Code's /compact, a summary it wrote): the context in
 * use drops to N, thresholds it falls back under are cleared, and tasks in
 * `token_warning` return to work. Then a handoff refused for too little free
 * context can be made again.
 */
export async function compactCommand(options: CompactCommandOptions, io: CliIo): Promise<number> {
  const tokensAfter = parseTokenCount('--tokens-after', options.tokensAfter)!; // a required option
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const session = await run.engine.openSession(sessionId);
      const before = session.state.tokens.contextTokens;
      await session.compact(options.trigger ?? 'requested', options.summary === undefined ? { tokensAfter } : { tokensAfter, summary: options.summary });
      const view = session.state;
      printWrite(
        options,
        io,
        run,
        `Compacted session ${sessionId}: context ${groupDigits(before)} -> ${groupDigits(view.tokens.contextTokens)} tokens (version ${view.version}).`,
        { sessionId: sessionId, tokensBefore: before, tokensAfter: view.tokens.contextTokens, version: view.version },
      );
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}
