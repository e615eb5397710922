import { EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { sessionOf, withEngine } from '../stateFolder.js';

/** Options of `moai-session recover`. */
export interface RecoverCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  /** Defaults to the config's `session.recovery_strategy`. */
  strategy?: string;
  agent?: string;
}

/**
 * `moai-session recover <sessionId>`: recover a session in the six recorded
 * steps (restore, validate, replay, assess, plan, notify) and print the report.
 * Failed tasks come out `recovered`, ready to RESUME.
 */
export async function recoverCommand(options: RecoverCommandOptions, io: CliIo): Promise<number> {
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const { report } = await run.engine.recover(sessionId, {
        ...(options.strategy === undefined ? {} : { strategy: options.strategy }),
        ...(options.agent === undefined ? {} : { agent: options.agent }),
      });
      if (options.json) {
        const stable = { ...report, checkpointId: report.checkpointId ?? null, tokensLeft: report.tokensLeft ?? null };
        io.stdout(`${JSON.stringify({ ...stable, events: run.appended, warnings: run.warnings }, null, 2)}\n`);
      } else {
        const steps = run.appended.flatMap((event) =>
          event.type === 'RecoveryStepCompleted' ? [`  ${event.data.step.padEnd(8)}  ${event.data.detail}`] : [],
        );
        io.stdout(`${[report.report, '', `Steps (recovery ${report.recoveryId}, ${run.appended.length} events recorded):`, ...steps].join('\n')}\n`);
      }
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}
