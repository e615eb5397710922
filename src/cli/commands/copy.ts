import { join, resolve } from 'node:path';
import { createFileCheckpointStore, type CheckpointStore } from '../../checkpoints/checkpointStore.js';
import type { EventStore } from '../../store/eventStore.js';
import { refuseForeignFolder, requireStateFolder } from '../../runtime/stateFolder.js';
import { openEventStore, storeKindOfUrl } from '../../store/openEventStore.js';
import { redactUrlPassword } from '../../util/describeValue.js';
import { groupDigits } from '../../util/groupDigits.js';
import { plural } from '../../util/plural.js';
import { CliUsageError, EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';

/** Options of `moai-session copy`. */
export interface CopyCommandOptions extends GlobalOptions {
  /** A state folder or a postgres:// URL. */
  from: string;
  /** A state folder or a postgres:// URL. */
  to: string;
  /** Show a progress bar on standard error; defaults to whether standard output is a terminal. */
  progress?: boolean;
}

/** Where one side of a copy is: a state folder (its events/ and checkpoint files) or a database. */
type Side = { kind: 'file'; dir: string; shown: string } | { kind: 'postgres'; url: string; shown: string };

function sideOf(value: string, cwd: string, flag: string): Side {
  const kind = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value) ? storeKindOfUrl(value) : 'file';
  if (kind === 'postgres') return { kind, url: value, shown: redactUrlPassword(value) };
  if (kind !== 'file') throw new CliUsageError(`${flag} ${redactUrlPassword(value)}: give a state folder (.moai) or a postgres:// URL.`);
  const dir = resolve(cwd, value.replace(/^file:\/\//, ''));
  return { kind, dir, shown: dir };
}

async function open(side: Side, mode: 'read' | 'write'): Promise<{ store: EventStore; checkpoints: CheckpointStore }> {
  if (side.kind === 'file') {
    const store = await openEventStore({ kind: 'file', dir: join(side.dir, 'events'), ...(mode === 'read' ? { readOnly: true } : {}) });
    return { store, checkpoints: createFileCheckpointStore(side.dir, { workingFolder: false }) };
  }
  const { openPostgresEventStore } = await import('../../store/postgres/postgresEventStore.js');
  const { createPostgresCheckpointStore } = await import('../../checkpoints/postgresCheckpointStore.js');
  const store = await openPostgresEventStore({ url: side.url, ...(mode === 'read' ? { migrate: false } : {}) });
  return { store, checkpoints: createPostgresCheckpointStore({ pool: store.pool, schema: store.schema }) };
}

/** A one-line bar: `[#####.....] 50% 1,000 of 2,000 events`. */
function bar(copied: number, total: number): string {
  const share = total === 0 ? 1 : copied / total;
  const filled = Math.round(share * 30);
  return `[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${Math.floor(share * 100)}% ${groupDigits(copied)} of ${groupDigits(total)} events`;
}

/**
 * `moai-session copy --from <dir|url> --to <dir|url>`: copy a whole log
 * between stores (a state folder's file log and a PostgreSQL schema, either
 * way), keeping streams, versions, positions, metadata and the checkpoint
 * documents, verified at the end by counts and a checksum of the events read
 * back from both. An interrupted copy is resumed by running it again.
 */
export async function copyCommand(options: CopyCommandOptions, io: CliIo): Promise<number> {
  const from = sideOf(options.from, io.cwd, '--from');
  const to = sideOf(options.to, io.cwd, '--to');
  if (from.kind === to.kind && (from.kind === 'file' ? from.dir === (to as { dir: string }).dir : from.url === (to as { url: string }).url)) {
    throw new CliUsageError('--from and --to name the same store.');
  }
  // A folder side must be a state folder to copy from, and one of ours (or new, or empty) to copy into.
  if (from.kind === 'file') await requireStateFolder(from.dir, {});
  if (to.kind === 'file') await refuseForeignFolder(to.dir, {});
  const { copyLog } = await import('../../store/postgres/copyLog.js');
  const source = await open(from, 'read');
  try {
    const target = await open(to, 'write');
    try {
      // On a terminal (the command's output is one), unless --no-progress.
      const showProgress = options.progress ?? io.stdoutIsTerminal === true;
      let shownAt = 0;
      let shown = -1;
      const result = await copyLog({
        from: source.store,
        to: target.store,
        fromCheckpoints: source.checkpoints,
        toCheckpoints: target.checkpoints,
        ...(io.signal === undefined ? {} : { signal: io.signal }),
        onProgress: ({ copied, total }) => {
          if (!showProgress || copied === shown || (Date.now() - shownAt < 200 && copied < total)) return;
          shownAt = Date.now();
          shown = copied;
          io.stderr(`\r${bar(copied, total)}`);
        },
      });
      if (showProgress) io.stderr('\n');
      if (options.json) {
        io.stdout(`${JSON.stringify({ from: from.shown, to: to.shown, ...result })}\n`);
        return EXIT.ok;
      }
      const resumed = result.alreadyThere > 0 ? ` (${groupDigits(result.alreadyThere)} were there from an earlier copy)` : '';
      io.stdout(
        `Copied ${plural(result.events, 'event')} of ${plural(result.streams, 'stream')}${resumed} and ${plural(result.checkpoints, 'checkpoint document')} ` +
          `from ${from.shown} to ${to.shown}.\nVerified: both hold ${groupDigits(result.events)} events, checksum ${result.checksum}.\n`,
      );
      return EXIT.ok;
    } finally {
      await target.store.close();
    }
  } finally {
    await source.store.close();
  }
}
