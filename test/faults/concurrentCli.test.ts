// N processes writing through the CLI at once (issue 9's fault suite): every
// write waits for the lock within the wait bound, so none is refused, none is
// lost and none is written twice.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BINARY, runBinary } from '../cli/runBinary.js';
import { runInProcess } from '../cli/runInProcess.js';
import { tempDir } from '../helpers.js';
import { recordFigures, runs } from './faultFigures.js';

const ROUNDS = runs(10, 1);
const PROCESSES = runs(8, 4);

describe('CLI processes writing at once', () => {
  it.skipIf(!existsSync(BINARY))(`${PROCESSES} processes × ${ROUNDS} rounds: none refused, none lost, none twice`, async () => {
    const cwd = await tempDir('moai-concurrent-cli-');
    const started = await runInProcess(['start', '--session', 's1', '--agent', 'alice', '--model', 'claude-sonnet-4-5'], cwd);
    expect(started.code, started.stderr).toBe(0);
    let acknowledged = 0;
    let refused = 0;
    const failures: string[] = [];
    const acked: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.all(
        Array.from({ length: PROCESSES }, (_, k) => {
          // Half add a task, half record usage: both take the lock, and the policies append after them.
          const taskId = `r${round}p${k}`;
          const args = k % 2 === 0 ? ['task', 'add', 's1', taskId, '--title', `Task ${taskId}`] : ['usage', 's1', '--input', String(100 + k), '--output', '7'];
          return runBinary(args, cwd).then((result) => ({ result, taskId, kind: args[0]! }));
        }),
      );
      for (const { result, taskId, kind } of results) {
        if (result.code === 0) {
          acknowledged++;
          if (kind === 'task') acked.push(taskId);
        } else {
          if (result.code === 5) refused++;
          failures.push(`${kind} ${taskId}: exit ${result.code} ${result.stderr.trim()}`);
        }
      }
    }
    const events = await runInProcess(['events', '--json'], cwd);
    const all = events.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; data: { taskId?: string; usage?: unknown } });
    const added = all.filter((e) => e.type === 'TaskAdded').map((e) => e.data.taskId!);
    const usageCount = all.filter((e) => e.type === 'TokenUsageRecorded').length;
    const lost = acked.filter((id) => !added.includes(id)).length + Math.max(0, acknowledged - acked.length - usageCount);
    const duplicated = added.length - new Set(added).size + Math.max(0, usageCount - (acknowledged - acked.length));
    recordFigures({ test: `${PROCESSES} CLI processes writing at once`, runs: ROUNDS, acknowledged, lost, duplicated, refused });
    expect(failures).toEqual([]);
    expect({ lost, duplicated, refused }).toEqual({ lost: 0, duplicated: 0, refused: 0 });
    expect(acknowledged).toBe(ROUNDS * PROCESSES);
  }, 300_000);
});
