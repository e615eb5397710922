import { EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { printWrite } from '../output.js';
import { parsePositiveInteger } from '../parse.js';
import { sessionOf, withEngine } from '../stateFolder.js';

/** Options of `moai-session fork`. */
export interface ForkCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  /** The parent's version to branch at, as typed; defaults to its newest. */
  at?: string;
  /** The fork's id; defaults to a new random id. */
  session?: string;
  agent?: string;
  model?: string;
  title?: string;
}

/**
 * `moai-session fork <sessionId>`: branch a session, now or at an earlier
 * version, into a new session whose first event names the parent and the version.
 */
export async function forkCommand(options: ForkCommandOptions, io: CliIo): Promise<number> {
  const atVersion = parsePositiveInteger('--at', options.at);
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const fork = await run.engine.forkSession(sessionId, {
        ...(atVersion === undefined ? {} : { atVersion }),
        ...(options.session === undefined ? {} : { sessionId: options.session }),
        ...(options.agent === undefined ? {} : { agent: options.agent }),
        ...(options.model === undefined ? {} : { model: options.model }),
        ...(options.title === undefined ? {} : { title: options.title }),
      });
      const s = fork.state.session;
      printWrite(
        options,
        io,
        run,
        `Forked session ${sessionId} at version ${s.parent?.version ?? '?'} into ${fork.sessionId} ` +
          `(agent ${s.agent}, model ${s.model}, ${fork.state.tasks.order.length} tasks).`,
        {
          sessionId: fork.sessionId,
          parentSessionId: sessionId,
          parentVersion: s.parent?.version ?? null,
          version: fork.state.version,
        },
      );
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}
