import type { StoredEvent } from '../events/envelope.js';
import { formatAppended } from './format.js';
import type { CliIo, GlobalOptions } from './io.js';
import type { EngineRun } from './stateFolder.js';

/**
 * Print what a write command did: with --json, `data` plus the events it
 * appended and the engine's warnings; otherwise the summary lines and, when
 * the command appended more than one event (the policies' reactions, a
 * recovery's steps), each event on a line of its own.
 */
export function printWrite(
  options: GlobalOptions,
  io: CliIo,
  run: EngineRun,
  summary: string | readonly string[],
  data: Record<string, unknown>,
): void {
  if (options.json) {
    io.stdout(`${JSON.stringify({ ...data, events: run.appended, warnings: run.warnings }, null, 2)}\n`);
    return;
  }
  const lines = typeof summary === 'string' ? [summary] : [...summary];
  if (run.appended.length > 1) lines.push(`Appended ${run.appended.length} events:`, ...formatAppended(run.appended));
  io.stdout(`${lines.join('\n')}\n`);
}

/** The events of one type among those appended. */
export const appendedOf = <T extends StoredEvent['type']>(run: EngineRun, type: T): Extract<StoredEvent, { type: T }>[] =>
  run.appended.filter((event): event is Extract<StoredEvent, { type: T }> => event.type === type);
