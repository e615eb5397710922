// npm run bench -- hook: one Claude Code hook run, the whole process, against
// `node -e 0` measured in the same run (rounds where each goes first in turn):
// a PostToolUse (TaskCreate) on a session with 10,000 events, and a Stop that
// reads 100 new transcript lines; and the status line on that session (the
// same bound). Targets: median <= 2x, p99 <= 4x of the baseline's median.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openFileEventStore, type NewEvent } from '../src/index.js';
import { median, report } from './report.js';

const EVENTS = 10_000;
const ROUNDS = 40;
const NEW_LINES = 100;
const here = dirname(fileURLToPath(import.meta.url));
const binary = join(here, '..', 'dist', 'src', 'cli', 'main.js');
const FIXTURE = join(here, '..', 'test', 'fixtures', 'claude-code', 'transcripts', 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');

/** A state folder whose log holds one session of `EVENTS` events, as a long Claude Code session leaves it. */
async function folderWithLongSession(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'moai-bench-hook-'));
  const store = await openFileEventStore({ dir: join(root, '.moai', 'events'), durability: 'none' });
  let n = 0;
  const event = (type: string, data: unknown): NewEvent =>
    ({ id: `e${++n}`, type, data, meta: { at: new Date(1_767_225_600_000 + n * 1000).toISOString(), agent: 'claude-code' } }) as NewEvent;
  const events: NewEvent[] = [event('SessionStarted', { sessionId: 'long', agent: 'claude-code', model: 'claude-opus-4-6' })];
  for (let t = 0; events.length < EVENTS; t++) {
    const taskId = `task-${t}`;
    events.push(event('TaskAdded', { taskId, title: `Task ${t}`, toolUseId: `toolu_add_${t}` }));
    events.push(event('TaskTransitioned', { taskId, event: 'START', from: 'pending', to: 'in_progress', toolUseId: `toolu_up_${t}` }));
    events.push(event('TokenUsageRecorded', { model: 'claude-opus-4-6', inputTokens: 8, outputTokens: 300, cacheCreationInputTokens: 500, cacheReadInputTokens: 40_000 + (t % 50) * 1000, main: true, messageId: `msg_${t}`, requestId: `req_${t}` }));
    events.push(event('TaskTransitioned', { taskId, event: 'COMPLETE', from: 'in_progress', to: 'completed', toolUseId: `toolu_done_${t}` }));
  }
  await store.append('session-long', events.slice(0, EVENTS));
  await store.close();
  return root;
}

/** The wall time of one whole process, in ms. */
function wall(args: readonly string[], cwd: string, input?: string): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd, input: input ?? '', stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, CLAUDE_PROJECT_DIR: cwd } });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr.toString()}`);
  return ms;
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/** `prepare(round)` then the hook (or `command`) with its payload, against `node -e 0`, in rounds where each goes first in turn. */
function paired(cwd: string, payload: (round: number) => string, prepare: (round: number) => void, command = 'hook'): { ms: number; p99: number; nodeMs: number; nodeP99: number } {
  const ours: number[] = [];
  const node: number[] = [];
  // Warm-up: the first run folds the session and leaves its view snapshot, as any run before it would have.
  prepare(-1);
  wall([binary, command], cwd, payload(-1));
  wall(['-e', '0'], cwd);
  for (let round = 0; round < ROUNDS; round++) {
    prepare(round);
    if (round % 2 === 0) {
      ours.push(wall([binary, command], cwd, payload(round)));
      node.push(wall(['-e', '0'], cwd));
    } else {
      node.push(wall(['-e', '0'], cwd));
      ours.push(wall([binary, command], cwd, payload(round)));
    }
  }
  return { ms: median(ours), p99: percentile(ours, 99), nodeMs: median(node), nodeP99: percentile(node, 99) };
}

/** `NEW_LINES` assistant lines of the fixture, each made a new API call of its own for `round`. */
function newLines(round: number): string {
  const lines = readFileSync(FIXTURE, 'utf8').split('\n').filter((line) => line.includes('"type":"assistant"'));
  const out: string[] = [];
  for (let i = 0; i < NEW_LINES; i++) {
    const line = lines[i % lines.length]!;
    out.push(line.replace(/"id":"(msg_[^"]+)"/, `"id":"$1_r${round}_${i}"`).replace(/"requestId":"([^"]+)"/, `"requestId":"$1_r${round}_${i}"`));
  }
  return `${out.join('\n')}\n`;
}

function verdicts(title: string, figures: { ms: number; p99: number; nodeMs: number; nodeP99: number }): boolean {
  const medianMet = report(`${title} (median of ${ROUNDS} paired rounds)`, figures.ms, 'ms', [
    { baseline: 'node -e 0 (median)', baselineValue: figures.nodeMs, ratio: figures.ms / figures.nodeMs, target: { max: 2, label: 'median <= 2x' } },
  ]);
  const p99Met = report(`  p99 of the same ${ROUNDS} runs`, figures.p99, 'ms', [
    { baseline: 'node -e 0 (median)', baselineValue: figures.nodeMs, ratio: figures.p99 / figures.nodeMs, target: { max: 4, label: 'p99 <= 4x' } },
    { baseline: 'node -e 0 (p99)', baselineValue: figures.nodeP99, ratio: figures.p99 / figures.nodeP99 },
  ]);
  return medianMet && p99Met;
}

/**
 * The Claude Code hook as Claude Code runs it (a process per event): a
 * PostToolUse (a TaskCreate, which appends) on a session with 10,000 events,
 * and a Stop that reads 100 new transcript lines (each a new API call).
 */
export async function benchHook(): Promise<boolean> {
  const cwd = await folderWithLongSession();
  const transcript = join(cwd, 'long.jsonl');
  writeFileSync(transcript, '');
  try {
    const post = paired(
      cwd,
      (round) =>
        JSON.stringify({
          session_id: 'long',
          transcript_path: transcript,
          cwd,
          hook_event_name: 'PostToolUse',
          tool_name: 'TaskCreate',
          tool_use_id: `toolu_bench_${round + 1}`,
          tool_input: { subject: `Bench task ${round}`, description: 'd' },
          tool_response: { task: { id: String(100_000 + round + 1), subject: `Bench task ${round}` } },
        }),
      () => {},
    );
    const postMet = verdicts(`Hook: PostToolUse (TaskCreate) on a session of ${EVENTS.toLocaleString('en-US')} events, whole process`, post);
    const stop = paired(
      cwd,
      () => JSON.stringify({ session_id: 'long', transcript_path: transcript, cwd, hook_event_name: 'Stop', stop_hook_active: false }),
      (round) => appendFileSync(transcript, newLines(round)),
    );
    const stopMet = verdicts(`Hook: Stop reading ${NEW_LINES} new transcript lines (${NEW_LINES} API calls), same session, whole process`, stop);
    const status = paired(
      cwd,
      () => JSON.stringify({ hook_event_name: 'Status', session_id: 'long', transcript_path: transcript, cwd, model: { id: 'claude-opus-4-6' }, workspace: { current_dir: cwd, project_dir: cwd } }),
      () => {},
      'statusline',
    );
    const statusMet = verdicts('Status line on the same session, whole process (read-only)', status);
    return postMet && stopMet && statusMet;
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
