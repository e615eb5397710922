import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sessionViewToJson } from '../../projections/sessionView.js';
import { checkId } from '../../validation/ids.js';
import { loadConfig } from '../../config/loadConfig.js';
import { replay } from '../../engine/replay.js';
import { writeMemoryFiles } from '../../memory/writeMemoryFiles.js';
import { memoryFilesOptionsFrom } from '../../memory/memoryFiles.js';
import { settingsFromConfig } from '../../engine/settings.js';
import { CliUsageError, EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { parsePositiveInteger } from '../parse.js';
import { openLogForReading, openLogForWriting, sessionToRead, stateFolder } from '../stateFolder.js';
import { plural } from '../../util/plural.js';

/** Options of `moai-session replay`. */
export interface ReplayCommandOptions extends GlobalOptions {
  session?: string;
  /** The version to stop at, as typed; needs `session`. */
  until?: string;
  /** Rewrite the memory files under `<dir>/sessions/` from this replay. */
  writeMemoryFiles?: boolean;
  /** On a damaged log, replay the sound events, saying on stderr what was skipped. */
  skipDamaged?: boolean;
}

/**
 * `moai-session replay`: rebuild every projection from the log and verify
 * every recorded task transition against the machine. Exit 3 on a divergence.
 */
export async function replayCommand(options: ReplayCommandOptions, io: CliIo): Promise<number> {
  const until = parsePositiveInteger('--until', options.until);
  if (options.session !== undefined) checkId('session', options.session);
  if (until !== undefined && options.session === undefined) {
    throw new CliUsageError('--until is a version of one session: give the session with --session.');
  }
  if (options.writeMemoryFiles === true && (options.session !== undefined || until !== undefined)) {
    throw new CliUsageError('--write-memory-files rebuilds the files from the whole log: leave out --session and --until.');
  }
  if (options.skipDamaged === true && options.writeMemoryFiles === true) {
    throw new CliUsageError('--write-memory-files writes from the whole log: run `moai-session repair` first rather than --skip-damaged.');
  }
  // Rewriting the memory files takes the writer lock, so it never races a write command's own rewrite.
  const store =
    options.skipDamaged === true
      ? await (await import('./repair.js')).openSkippingDamaged(options, io)
      : options.writeMemoryFiles === true
        ? await openLogForWriting(options, io)
        : await openLogForReading(options, io);
  try {
    const started = performance.now();
    const replayOptions: Parameters<typeof replay>[1] = {};
    if (options.session !== undefined) replayOptions.sessionId = await sessionToRead(store, options, io, options.session);
    if (until !== undefined) replayOptions.untilVersion = until;
    const report = await replay(store, replayOptions);
    const ms = performance.now() - started;
    // Streams an earlier repair left with a hole: their projections rest on a history with events missing.
    const repairs = join(stateFolder(options, io), 'repair');
    const repairNotes = existsSync(repairs) ? await (await import('./repair.js')).repairedStreamNotes(stateFolder(options, io)) : [];
    let written: string[] | undefined;
    if (options.writeMemoryFiles === true) {
      const dir = stateFolder(options, io);
      const { config } = await loadConfig({ dir, env: io.env });
      const fileOptions = { ...memoryFilesOptionsFrom(settingsFromConfig(config)), headPosition: () => store.headPosition() };
      written = (await writeMemoryFiles(dir, report, fileOptions)).written;
    }
    if (options.json) {
      io.stdout(
        `${JSON.stringify(
          {
            ok: report.ok,
            eventsRead: report.eventsRead,
            lastPosition: report.lastPosition,
            divergences: report.divergences,
            ...(repairNotes.length === 0 ? {} : { repairs: repairNotes }),
            ...(written === undefined ? {} : { memoryFilesWritten: written }),
            sessions: Object.fromEntries([...report.sessions].map(([id, view]) => [id, sessionViewToJson(view)])),
          },
          null,
          2,
        )}\n`,
      );
    } else {
      const lines = [`Replayed ${plural(report.eventsRead, 'event')} of ${plural(report.sessions.size, 'session')} in ${ms.toFixed(0)} ms.`];
      for (const [id, view] of report.sessions) {
        const states = new Map<string, number>();
        for (const taskId of view.tasks.order) {
          const state = view.tasks.byId.get(taskId)!.state;
          states.set(state, (states.get(state) ?? 0) + 1);
        }
        const summary = [...states].map(([state, n]) => `${n} ${state}`).join(', ') || 'no tasks';
        lines.push(`  ${id}: ${view.session.status} at v${view.version}; tasks: ${summary}`);
      }
      if (report.ok) {
        lines.push('Every recorded task transition agrees with the task machine.');
      } else {
        lines.push(`${plural(report.divergences.length, 'divergence')}: the machine no longer explains this history.`);
        for (const divergence of report.divergences) lines.push(`  ${divergence.message}`);
      }
      for (const note of repairNotes) lines.push(note);
      if (written !== undefined) {
        lines.push(written.length === 0 ? 'The memory files already matched the log.' : `Rewrote ${written.join(', ')} from the log.`);
      }
      io.stdout(`${lines.join('\n')}\n`);
    }
    return report.ok ? EXIT.ok : EXIT.divergence;
  } finally {
    await store.close();
  }
}
