import { join, relative } from 'node:path';
import { EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { printWrite } from '../output.js';
import { sessionOf, withEngine } from '../stateFolder.js';

/** Options of `moai-session checkpoint`. */
export interface CheckpointCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  /** Why; defaults to `requested`. */
  reason?: string;
  agent?: string;
}

/**
 * `moai-session checkpoint <sessionId>`: take a checkpoint now: a
 * `CheckpointCreated` event with the state's checksum (and the git state of
 * the project, when it is a repository), and the document itself in
 * `sessions/checkpoints/<sessionId>/<id>.json`.
 */
export async function checkpointCommand(options: CheckpointCommandOptions, io: CliIo): Promise<number> {
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const session = await run.engine.openSession(sessionId);
      const document = await session.checkpoint(options.reason ?? 'requested', options.agent);
      const { checkpoints } = run.engine;
      const file = checkpoints.fileOf?.(sessionId, document.checkpointId) ?? join(checkpoints.location, `${document.checkpointId}.json`);
      printWrite(
        options,
        io,
        run,
        `Checkpoint ${document.checkpointId} of session ${sessionId} at version ${document.version} (${document.reason}): ` +
          `${relative(io.cwd, file) || file}, ${document.checksum}.`,
        {
          sessionId: sessionId,
          checkpointId: document.checkpointId,
          reason: document.reason,
          version: document.version,
          position: document.position,
          checksum: document.checksum,
          file,
        },
      );
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}
