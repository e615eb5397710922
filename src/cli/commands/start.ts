import { EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { printWrite } from '../output.js';
import { withEngine } from '../stateFolder.js';

/** Options of `moai-session start`. */
export interface StartCommandOptions extends GlobalOptions {
  agent: string;
  model: string;
  title?: string;
  /** The new session's id; defaults to a new random id. */
  session?: string;
}

/** `moai-session start`: start a session (refused when the id is taken or too many sessions are active). */
export async function startCommand(options: StartCommandOptions, io: CliIo): Promise<number> {
  return withEngine(options, io, async (run) => {
    const session = await run.engine.startSession({
      agent: options.agent,
      model: options.model,
      ...(options.title === undefined ? {} : { title: options.title }),
      ...(options.session === undefined ? {} : { sessionId: options.session }),
    });
    const s = session.state.session;
    printWrite(
      options,
      io,
      run,
      `Started session ${session.sessionId} (agent ${s.agent}, model ${s.model}${s.title === undefined ? '' : `, "${s.title}"`}).`,
      { sessionId: session.sessionId, version: session.state.version },
    );
    return EXIT.ok;
  });
}
