import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStateFolder } from '../../../src/runtime/openStateFolder.js';
import { runHook, type HookRunResult } from '../../../src/integrations/claude-code/runHook.js';
import { sessionStream, type StoredEvent } from '../../../src/events/envelope.js';
import type { SessionView } from '../../../src/projections/sessionView.js';

/** A temporary project folder; its state folder is `<root>/.moai`. */
export function tempProject(prefix = 'moai-hook-'): { root: string; dir: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { root, dir: join(root, '.moai'), remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Fire one payload at the hook (in this process), as Claude Code would on its standard input. */
export function fire(dir: string, payload: unknown): Promise<HookRunResult> {
  return runHook(typeof payload === 'string' ? payload : JSON.stringify(payload), { dir, cwd: tmpdir(), env: {} });
}

/** A session's events and view, read without the writer lock; undefined views for a session the log lacks. */
export async function readSession(dir: string, sessionId: string): Promise<{ events: StoredEvent[]; view: SessionView | undefined }> {
  const folder = await openStateFolder({ dir, mode: 'read' });
  try {
    const events: StoredEvent[] = [];
    for await (const event of folder.engine.store.readStream(sessionStream(sessionId))) events.push(event);
    const view = events.length === 0 ? undefined : await folder.engine.sessionState(sessionId);
    return { events, view };
  } finally {
    await folder.close();
  }
}

/** The ids of every session in the log. */
export async function sessionIds(dir: string): Promise<string[]> {
  const folder = await openStateFolder({ dir, mode: 'read' });
  try {
    return (await folder.engine.listSessions()).map((s) => s.sessionId).sort();
  } finally {
    await folder.close();
  }
}

/** The base fields every payload carries. */
export const base = (sessionId: string, transcriptPath: string, event: string): Record<string, unknown> => ({
  session_id: sessionId,
  transcript_path: transcriptPath,
  cwd: '/tmp',
  hook_event_name: event,
});
