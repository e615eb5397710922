// A process that writes one state folder's memory files many times, as a CLI
// command on a shared (PostgreSQL) log does: argv = dir, first position, step,
// count. Each write says it reflects the log up to its position. Prints one
// JSON line: the errors it met.
import { createEngine, createMemoryEventStore } from '../../../src/index.js';
import { writeMemoryFiles } from '../../../src/memory/index.js';

const [dir, first, step, count] = process.argv.slice(2);
const engine = await createEngine({ store: createMemoryEventStore() });
const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'claude-sonnet-4-5' });
await session.recordUsage({ input_tokens: 1000, output_tokens: 10 });
const { sessions, tokenHistories } = await engine.replay();
await engine.close();
const errors: string[] = [];
for (let i = 0; i < Number(count); i++) {
  const lastPosition = Number(first) + i * Number(step);
  try {
    await writeMemoryFiles(dir!, { sessions, tokenHistories, lastPosition });
  } catch (error) {
    errors.push((error as Error).message);
  }
}
process.stdout.write(`${JSON.stringify({ errors })}\n`);
