import { sessionViewToJson } from '../../projections/sessionView.js';
import { sessionStream } from '../../events/envelope.js';
import { checkId } from '../../validation/ids.js';
import { InvalidArgumentError, UnknownSessionError } from '../../errors.js';
import { createFileViewSnapshots } from '../../checkpoints/viewSnapshots.js';
import { loadSessionView } from '../../engine/loadSessionView.js';
import { EXIT } from '../exitCodes.js';
import { formatSessionView } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { parsePositiveInteger } from '../parse.js';
import { openLogForReading, stateFolder } from '../stateFolder.js';
import { loadConfig } from '../../config/loadConfig.js';
import { settingsFromConfig } from '../../engine/settings.js';

/** Options of `moai-session state`. */
export interface StateCommandOptions extends GlobalOptions {
  sessionId: string;
  /** The version to show, as typed. */
  at?: string;
}

/** `moai-session state <sessionId>`: the projected session state, now or at a version. */
export async function stateCommand(options: StateCommandOptions, io: CliIo): Promise<number> {
  const at = parsePositiveInteger('--at', options.at);
  checkId('session', options.sessionId);
  const store = await openLogForReading(options, io);
  try {
    const stream = sessionStream(options.sessionId);
    const latest = await store.streamVersion(stream);
    if (latest === 0) {
      const known = (await store.listStreams()).map((s) => s.stream.replace(/^session-/, ''));
      throw new UnknownSessionError(options.sessionId, known);
    }
    if (at !== undefined && at > latest) {
      throw new InvalidArgumentError(`Session ${options.sessionId} has ${latest} events; --at ${at} does not exist yet.`);
    }
    // The view snapshot a writer left is used when the log confirms it (read, never written here).
    const snapshots = createFileViewSnapshots(stateFolder(options, io));
    const view = (await loadSessionView(store, options.sessionId, at === undefined ? { snapshots } : { toVersion: at }))!.view;
    if (options.json) {
      io.stdout(`${JSON.stringify(sessionViewToJson(view), null, 2)}\n`);
    } else {
      // The config's context windows, as the write commands use them (the defaults when the config cannot be loaded).
      const loaded = await loadConfig({ dir: stateFolder(options, io), env: io.env }).catch(() => undefined);
      io.stdout(`${formatSessionView(view, settingsFromConfig(loaded?.config).budget)}\n`);
    }
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
