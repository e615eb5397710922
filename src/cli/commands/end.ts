import { EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { appendedOf, printWrite } from '../output.js';
import { sessionOf, withEngine } from '../stateFolder.js';

/** Options of `moai-session end`. */
export interface EndCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  reason?: string;
  agent?: string;
}

/** `moai-session end <sessionId>`: end a session, with a checkpoint first when auto_checkpoint is on. */
export async function endCommand(options: EndCommandOptions, io: CliIo): Promise<number> {
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const session = await run.engine.openSession(sessionId);
      await session.end(options.reason, options.agent);
      const checkpoint = appendedOf(run, 'CheckpointCreated')[0];
      printWrite(
        options,
        io,
        run,
        `Ended session ${sessionId} at version ${session.state.version}` +
          (options.reason === undefined ? '' : ` (${options.reason})`) +
          (checkpoint === undefined ? '.' : `, after checkpoint ${checkpoint.data.checkpointId}.`),
        { sessionId: sessionId, version: session.state.version },
      );
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}
