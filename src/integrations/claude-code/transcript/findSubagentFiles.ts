import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { TranscriptFileSpec } from './digestTranscript.js';
import { agentIdOfFile } from './scanTranscript.js';

/** How much of a 2.0.x sibling agent file is read to find whose session it is (its first lines name it). */
const HEAD_BYTES = 64 << 10;

/**
 * The subagent transcripts of the session whose main transcript is
 * `mainPath`, sorted by path: 2.1.x `<dir>/<sessionId>/subagents/**\/agent-*.jsonl`
 * (with the `agentType` of an `agent-<id>.meta.json` beside one), and 2.0.x
 * `<dir>/agent-*.jsonl` siblings whose lines name this session. 1.0.x
 * subagents are inline in the main file and need no file.
 */
export async function findSubagentFiles(mainPath: string): Promise<TranscriptFileSpec[]> {
  const dir = dirname(mainPath);
  const sessionId = basename(mainPath).replace(/\.jsonl$/, '');
  const found = new Map<string, TranscriptFileSpec>();

  const nested = join(dir, sessionId, 'subagents');
  for (const name of await listRecursive(nested)) {
    const agentId = agentIdOfFile(name);
    if (agentId === undefined) continue;
    const path = join(nested, name);
    const spec: TranscriptFileSpec = { path, role: 'subagent', agentId, size: await sizeOf(path) };
    const agentType = await metaAgentType(path.replace(/\.jsonl$/, '.meta.json'));
    if (agentType !== undefined) spec.agentType = agentType;
    found.set(path, spec);
  }

  for (const name of await listFlat(dir)) {
    const agentId = agentIdOfFile(name);
    if (agentId === undefined) continue;
    const path = join(dir, name);
    if (await namesSession(path, sessionId)) found.set(path, { path, role: 'subagent', agentId, size: await sizeOf(path) });
  }
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function listRecursive(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true })).filter((name) => name.endsWith('.jsonl'));
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

async function listFlat(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => name.startsWith('agent-') && name.endsWith('.jsonl'));
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

/** The file's size, for sharing the files out between threads. */
export async function sizeOf(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** The `agentType` of a subagent's meta file, when it has one that says. */
async function metaAgentType(path: string): Promise<string | undefined> {
  try {
    const meta: unknown = JSON.parse(await readFile(path, 'utf8'));
    const agentType = typeof meta === 'object' && meta !== null ? (meta as { agentType?: unknown }).agentType : undefined;
    return typeof agentType === 'string' ? agentType : undefined;
  } catch {
    // Missing or unreadable: the meta file is optional.
    return undefined;
  }
}

/** True when the head of a sibling agent file names `sessionId` as its session. */
async function namesSession(path: string, sessionId: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.allocUnsafe(HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0);
    return head.subarray(0, bytesRead).includes(`"sessionId":"${sessionId}"`);
  } finally {
    await handle.close();
  }
}

const isMissing = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};
