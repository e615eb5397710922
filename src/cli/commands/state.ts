import { sessionViewToJson } from '../../projections/sessionView.js';
import { sessionStream } from '../../events/envelope.js';
import { checkId } from '../../validation/ids.js';
import { InvalidArgumentError } from '../../errors.js';
import { createFileViewSnapshots } from '../../checkpoints/viewSnapshots.js';
import { loadSessionView } from '../../engine/loadSessionView.js';
import { EXIT } from '../exitCodes.js';
import { formatSessionView } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { parsePositiveInteger } from '../parse.js';
import { openLogForReading, sessionToRead, stateFolder } from '../stateFolder.js';
import { loadConfig } from '../../config/loadConfig.js';
import { settingsFromConfig } from '../../engine/settings.js';

/** Options of `moai-session state`. */
export interface StateCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  /** The version to show, as typed. */
  at?: string;
  /** On a damaged log, project the sound events, saying on stderr what was skipped. */
  skipDamaged?: boolean;
}

/** `moai-session state [sessionId]`: the projected session state, now or at a version. */
export async function stateCommand(options: StateCommandOptions, io: CliIo): Promise<number> {
  const at = parsePositiveInteger('--at', options.at);
  if (options.sessionId !== undefined) checkId('session', options.sessionId);
  const skipDamaged = options.skipDamaged === true;
  const store = skipDamaged ? await (await import('./repair.js')).openSkippingDamaged(options, io) : await openLogForReading(options, io);
  try {
    const sessionId = await sessionToRead(store, options, io, options.sessionId);
    const latest = await store.streamVersion(sessionStream(sessionId));
    if (at !== undefined && at > latest) {
      throw new InvalidArgumentError(`Session ${sessionId} has ${latest} events; --at ${at} does not exist yet.`);
    }
    // The view snapshot a writer left is used when the log confirms it (read, never written here).
    const snapshots = createFileViewSnapshots(stateFolder(options, io));
    const view = (await loadSessionView(store, sessionId, at === undefined && !skipDamaged ? { snapshots } : at === undefined ? {} : { toVersion: at }))!.view;
    if (options.json) {
      io.stdout(`${JSON.stringify(sessionViewToJson(view), null, 2)}\n`);
    } else {
      // The config's context windows, as the write commands use them (the defaults when the config cannot be loaded).
      const loaded = await loadConfig({ dir: stateFolder(options, io), env: io.env }).catch(() => undefined);
      const settings = settingsFromConfig(loaded?.config);
      io.stdout(`${formatSessionView(view, settings.budget, settings.prices)}\n`);
    }
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
