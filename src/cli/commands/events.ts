import { checkId } from '../../validation/ids.js';
import { sessionStream } from '../../events/envelope.js';
import { formatEventLine } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { parsePositiveInteger } from '../parse.js';
import { openLogForReading, sessionToRead } from '../stateFolder.js';
import { EXIT } from '../exitCodes.js';

/** Options of `moai-session events`. */
export interface EventsCommandOptions extends GlobalOptions {
  session?: string;
  /** A position (whole log) or a version (with `session`), as typed. */
  from?: string;
}

/** `moai-session events`: the log, one event a line (or one JSON envelope a line with --json). */
export async function eventsCommand(options: EventsCommandOptions, io: CliIo): Promise<number> {
  const from = parsePositiveInteger('--from', options.from) ?? 1;
  const store = await openLogForReading(options, io);
  try {
    let events: AsyncIterable<import('../../events/envelope.js').StoredEvent>;
    if (options.session !== undefined) {
      checkId('session', options.session);
      const stream = sessionStream(await sessionToRead(store, options, io, options.session));
      events = store.readStream(stream, { fromVersion: from });
    } else {
      events = store.readAll({ fromPosition: from });
    }
    let lines: string[] = [];
    for await (const event of events) {
      lines.push(options.json ? JSON.stringify(event) : formatEventLine(event));
      if (lines.length >= 1000) {
        io.stdout(`${lines.join('\n')}\n`);
        lines = [];
      }
    }
    if (lines.length > 0) io.stdout(`${lines.join('\n')}\n`);
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
