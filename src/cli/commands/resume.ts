import { sessionViewToJson } from '../../projections/sessionView.js';
import { EXIT } from '../exitCodes.js';
import { formatSessionView } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { printWrite } from '../output.js';
import { sessionOf, withEngine } from '../stateFolder.js';

/** Options of `moai-session resume`. */
export interface ResumeCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  /** The agent picking the session up; defaults to the session's last agent. */
  agent?: string;
  reason?: string;
}

/**
 * `moai-session resume <sessionId>`: load a session from its newest valid
 * checkpoint and the log after it, record the resume, and print the state.
 */
export async function resumeCommand(options: ResumeCommandOptions, io: CliIo): Promise<number> {
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const session = await run.engine.resumeSession(sessionId, {
        ...(options.agent === undefined ? {} : { agent: options.agent }),
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      });
      const view = session.state;
      printWrite(
        options,
        io,
        run,
        [`Resumed session ${sessionId} as ${view.session.agent} at version ${view.version}.`, '', formatSessionView(view, run.engine.settings.budget, run.engine.settings.prices)],
        { sessionId: sessionId, version: view.version, state: sessionViewToJson(view) },
      );
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}
