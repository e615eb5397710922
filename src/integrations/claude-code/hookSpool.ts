// The hook's spool, `<dir>/spool/claude-code/`: every payload is written here
// first (whole, under a temporary name, then renamed into place), and the run
// that holds the writer lock applies the spool in order, removing each entry
// once its events are in the log. So a hook whose lock stays busy past its
// short wait loses nothing (the next run, or `moai-session hook --drain`,
// applies it), and a run cut off after writing its entry loses nothing
// either. An entry applied but not yet removed when a run dies is applied
// again: every command a payload gives is keyed (tool_use_id, message id +
// requestId, the transcript offset), so that records nothing twice.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The spool folder of a state folder. */
export const spoolDir = (dir: string): string => join(dir, 'spool', 'claude-code');
/** Where entries that could not be applied are set aside (for `moai-session doctor`). */
export const failedSpoolDir = (dir: string): string => join(spoolDir(dir), 'failed');

/** One spooled payload. */
export interface SpoolEntry {
  /** The file name: sorts in the order the payloads came. */
  name: string;
  /** When the hook received it. */
  receivedAt: string;
  /** The payload as it came. */
  payload: Record<string, unknown>;
}

let sequence = 0;

/** A name that sorts by arrival: the time in ms, a counter, the process, randomness. */
function entryName(now: number): string {
  const counter = (sequence++ % 1_000_000).toString().padStart(6, '0');
  return `${now.toString().padStart(15, '0')}-${counter}-${process.pid}-${randomBytes(4).toString('hex')}.json`;
}

/** Write a payload to the spool (atomically: a reader sees it whole or not at all); returns its entry name. */
export function spoolPayload(dir: string, payload: Record<string, unknown>, now = new Date()): string {
  const folder = spoolDir(dir);
  const name = entryName(now.getTime());
  const temporary = join(folder, `.${name}.tmp`);
  const text = JSON.stringify({ receivedAt: now.toISOString(), payload });
  try {
    writeFileSync(temporary, text);
  } catch (error) {
    // The first payload of a folder: make the spool, then write it.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(folder, { recursive: true });
    writeFileSync(temporary, text);
  }
  renameSync(temporary, join(folder, name));
  return name;
}

/** The names of the entries waiting, oldest first. */
export function listSpool(dir: string): string[] {
  try {
    return readdirSync(spoolDir(dir))
      .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
      .sort();
  } catch {
    return [];
  }
}

/** Read one entry; undefined when it is gone (another run applied it) or not a spool entry. */
export function readSpoolEntry(dir: string, name: string): SpoolEntry | undefined {
  let text: string;
  try {
    text = readFileSync(join(spoolDir(dir), name), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as { receivedAt?: unknown; payload?: unknown };
    if (typeof value.payload !== 'object' || value.payload === null || Array.isArray(value.payload)) return undefined;
    return { name, receivedAt: typeof value.receivedAt === 'string' ? value.receivedAt : '', payload: value.payload as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** Remove an applied entry. */
export function removeSpoolEntry(dir: string, name: string): void {
  rmSync(join(spoolDir(dir), name), { force: true });
}

/** Set an entry that cannot be applied aside, so it does not stop the ones after it. */
export function setSpoolEntryAside(dir: string, name: string): void {
  try {
    mkdirSync(failedSpoolDir(dir), { recursive: true });
    renameSync(join(spoolDir(dir), name), join(failedSpoolDir(dir), name));
  } catch {
    removeSpoolEntry(dir, name);
  }
}

/** The entries set aside. */
export function listFailedSpool(dir: string): string[] {
  try {
    return readdirSync(failedSpoolDir(dir))
      .filter((name) => name.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
}
