import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../src/index.js';
import { median, report } from './report.js';

const EVENTS = 10_000;
const ROUNDS = 15;
// MOAI_BENCH_DIST names another build of the package (default: dist), as for the replay bench.
const dist = process.env.MOAI_BENCH_DIST ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const binary = join(dist, 'src', 'cli', 'main.js');

/** A state folder whose log holds `EVENTS` events of one session, as a long agent session would leave it. */
async function folderWithLongSession(): Promise<string> {
  const cwd = await mkdtemp(join(tmpdir(), 'moai-bench-startup-'));
  const engine = await createEngine({ dir: join(cwd, '.moai') });
  const session = await engine.startSession({ sessionId: 'long', agent: 'planner', model: 'claude-sonnet-4-5' });
  let version = 1;
  for (let task = 0; version < EVENTS; task++) {
    await session.addTask({ taskId: `t${task}`, title: `Task ${task}` });
    await session.sendTask(`t${task}`, 'START');
    await session.recordUsage({ input_tokens: 1_000 + (task % 50) * 10, output_tokens: 200 });
    await session.sendTask(`t${task}`, 'COMPLETE');
    version = session.state.version;
  }
  await engine.close();
  return cwd;
}

/** The wall time of one whole process, in ms. */
function wall(args: readonly string[], cwd: string): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr.toString()}`);
  return ms;
}

/**
 * `moai-session state <id>` on a 10,000-event log, the whole process, against
 * `node -e 0` in the same run: start-up is a product figure, since a Claude
 * Code hook starts a process per agent event.
 */
export async function benchStartup(): Promise<boolean> {
  const cwd = await folderWithLongSession();
  try {
    const command = [binary, 'state', 'long'];
    const withSnapshot = paired(command, cwd);
    const met = report(
      `Start-up: moai-session state on a ${EVENTS.toLocaleString('en-US')}-event log, whole process, the folder as the engine leaves it (median of ${ROUNDS} paired rounds)`,
      withSnapshot.ms,
      'ms',
      // A time: the ratio is ours over the baseline, and lower is better.
      [{ baseline: 'node -e 0', baselineValue: withSnapshot.nodeMs, ratio: withSnapshot.ratio, target: { max: 2, label: '<= 2x' } }],
    );
    // The same log without the view snapshot the engine keeps (one written by another tool, or a cache deleted): the whole session is folded.
    await rm(join(cwd, '.moai', 'cache'), { recursive: true, force: true });
    const folded = paired(command, cwd);
    report('  the same with no view snapshot (the whole session folded)', folded.ms, 'ms', [
      { baseline: 'node -e 0', baselineValue: folded.nodeMs, ratio: folded.ratio },
    ]);
    return met;
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

/** `command` against `node -e 0`, in rounds where each goes first in turn: the medians and the median ratio. */
function paired(command: readonly string[], cwd: string): { ms: number; nodeMs: number; ratio: number } {
  wall(command, cwd);
  wall(['-e', '0'], cwd);
  const ours: number[] = [];
  const node: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let mine: number;
    let bare: number;
    if (round % 2 === 0) {
      mine = wall(command, cwd);
      bare = wall(['-e', '0'], cwd);
    } else {
      bare = wall(['-e', '0'], cwd);
      mine = wall(command, cwd);
    }
    ours.push(mine);
    node.push(bare);
    ratios.push(mine / bare);
  }
  return { ms: median(ours), nodeMs: median(node), ratio: median(ratios) };
}
