import { checkId } from '../../validation/ids.js';
import { sessionStream, type StoredEvent } from '../../events/envelope.js';
import type { EventStore } from '../../store/eventStore.js';
import { formatEventLine } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { parsePositiveInteger } from '../parse.js';
import { openLogForReading, sessionToRead } from '../stateFolder.js';
import { CliUsageError, EXIT } from '../exitCodes.js';

/** Options of `moai-session events`. */
export interface EventsCommandOptions extends GlobalOptions {
  session?: string;
  /** A position (whole log) or a version (with `session`), as typed. */
  from?: string;
  /** Go on printing new events as they are appended, until `io.signal` aborts. */
  follow?: boolean;
  /** On a damaged log, print the sound events, saying on stderr what was skipped. */
  skipDamaged?: boolean;
}

/** `moai-session events`: the log, one event a line (or one JSON envelope a line with --json). */
export async function eventsCommand(options: EventsCommandOptions, io: CliIo): Promise<number> {
  const from = parsePositiveInteger('--from', options.from) ?? 1;
  if (options.skipDamaged === true && options.follow === true) throw new CliUsageError('--skip-damaged reads the log as it is: leave out --follow.');
  const store = options.skipDamaged === true ? await (await import('./repair.js')).openSkippingDamaged(options, io) : await openLogForReading(options, io);
  try {
    // Following goes on from what was read: from the head as it was, or the last event printed, whichever is later.
    let last = options.follow === true ? await store.headPosition() : 0;
    let events: AsyncIterable<StoredEvent>;
    let stream: string | undefined;
    if (options.session !== undefined) {
      checkId('session', options.session);
      stream = sessionStream(await sessionToRead(store, options, io, options.session));
      events = store.readStream(stream, { fromVersion: from });
    } else {
      events = store.readAll({ fromPosition: from });
    }
    let lines: string[] = [];
    for await (const event of events) {
      if (io.signal?.aborted === true) break; // the reader went away, or the user interrupted
      last = Math.max(last, event.position);
      lines.push(options.json ? JSON.stringify(event) : formatEventLine(event));
      if (lines.length >= 1000) {
        io.stdout(`${lines.join('\n')}\n`);
        lines = [];
      }
    }
    if (lines.length > 0) io.stdout(`${lines.join('\n')}\n`);
    if (options.follow === true) await follow(store, stream, last + 1, io, options.json);
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

/**
 * Print the events appended after `fromPosition` (of one stream, or all), as another
 * process appends them, until the user interrupts: the store follows its
 * writer live (a read-only store looks for new appends every 200 ms).
 */
async function follow(store: EventStore, stream: string | undefined, fromPosition: number, io: CliIo, json: boolean): Promise<void> {
  const signal = io.signal;
  if (signal?.aborted === true) return;
  await new Promise<void>((resolve, reject) => {
    const subscription = store.subscribe({ fromPosition, ...(stream === undefined ? {} : { stream }) }).subscribe({
      next: (event) => io.stdout(`${json ? JSON.stringify(event) : formatEventLine(event)}\n`),
      error: reject,
      complete: resolve,
    });
    signal?.addEventListener('abort', () => {
      subscription.unsubscribe();
      resolve();
    });
  });
}
