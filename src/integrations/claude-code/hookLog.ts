// The hook's own log, `<dir>/logs/hook.log`: what went wrong in a hook run
// (a payload that could not be read or applied, a lock that stayed busy, a
// refused command), one JSON line each, never shown to Claude Code. Bounded:
// past HOOK_LOG_MAX_BYTES the file becomes hook.log.1 (the one before is
// dropped), so the two together stay under twice that.

import { appendFileSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The size past which the hook log is rotated. */
export const HOOK_LOG_MAX_BYTES = 256 * 1024;

/** How serious a hook log line is: `error` (something was not recorded), `warn` (recorded, with a caveat), `info`. */
export type HookLogLevel = 'error' | 'warn' | 'info';

/** One line of the hook log. */
export interface HookLogEntry {
  at: string;
  level: HookLogLevel;
  /** The hook event the line is about, when known. */
  event?: string;
  /** Claude Code's session id, when known. */
  session?: string;
  message: string;
}

/** The path of the hook log of a state folder. */
export const hookLogPath = (dir: string): string => join(dir, 'logs', 'hook.log');

/**
 * Append one line to the hook log; never throws (a hook that cannot log
 * still exits 0). The file is rotated first when it has grown past the bound.
 */
export function writeHookLog(dir: string, entry: Omit<HookLogEntry, 'at'> & { at?: string }, maxBytes = HOOK_LOG_MAX_BYTES): void {
  try {
    const path = hookLogPath(dir);
    mkdirSync(join(dir, 'logs'), { recursive: true });
    try {
      if (statSync(path).size >= maxBytes) renameSync(path, `${path}.1`);
    } catch {
      // no log yet
    }
    const line: HookLogEntry = { at: entry.at ?? new Date().toISOString(), level: entry.level, message: entry.message.slice(0, 4000) };
    if (entry.event !== undefined) line.event = entry.event.slice(0, 100);
    if (entry.session !== undefined) line.session = entry.session.slice(0, 200);
    appendFileSync(path, `${JSON.stringify(line)}\n`);
  } catch {
    // Never break Claude Code over a log line.
  }
}

/** The hook log's lines, older file first; lines that are not JSON are left out. */
export function readHookLog(dir: string): HookLogEntry[] {
  const entries: HookLogEntry[] = [];
  for (const path of [`${hookLogPath(dir)}.1`, hookLogPath(dir)]) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const entry = JSON.parse(line) as HookLogEntry;
        if (typeof entry === 'object' && entry !== null && typeof entry.message === 'string') entries.push(entry);
      } catch {
        // a line cut by a crash
      }
    }
  }
  return entries;
}
