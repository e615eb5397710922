import { createActor } from 'xstate';
import { createEngine, createMemoryEventStore, taskLifecycleMachine } from '../src/index.js';
import { median, report } from './report.js';

const COMMANDS = 100_000;

async function engineRate(): Promise<number> {
  let t = 0;
  const engine = await createEngine({
    store: createMemoryEventStore(),
    clock: () => new Date(1_767_225_600_000 + t++),
    ids: () => `e${t++}`,
  });
  const session = await engine.startSession({ sessionId: 'bench', agent: 'a', model: 'claude-sonnet-4-5' });
  await session.addTask({ taskId: 't', title: 'T' });
  await session.sendTask('t', 'START');
  const started = performance.now();
  for (let i = 0; i < COMMANDS; i++) await session.sendTask('t', i % 2 === 0 ? 'BLOCK' : 'UNBLOCK');
  const seconds = (performance.now() - started) / 1000;
  await engine.close();
  return COMMANDS / seconds;
}

function actorRate(): number {
  const actor = createActor(taskLifecycleMachine).start();
  actor.send({ type: 'START' });
  const started = performance.now();
  for (let i = 0; i < COMMANDS; i++) actor.send({ type: i % 2 === 0 ? 'BLOCK' : 'UNBLOCK' });
  const seconds = (performance.now() - started) / 1000;
  actor.stop();
  return COMMANDS / seconds;
}

/** Task commands (decide + append + evolve) on the memory store vs raw XState actor.send. */
export async function benchTaskCommands(): Promise<boolean> {
  await engineRate();
  actorRate();
  const ours: number[] = [];
  const raw: number[] = [];
  for (let round = 0; round < 3; round++) {
    ours.push(await engineRate());
    raw.push(actorRate());
  }
  const oursRate = median(ours);
  const rawRate = median(raw);
  return report(`Task commands (decide + append + evolve), memory store, ${COMMANDS.toLocaleString('en-US')} commands (median of 3)`, oursRate, 'commands/s', [
    { baseline: 'raw XState actor.send', baselineValue: rawRate, ratio: oursRate / rawRate, target: { min: 0.8, label: '>= 0.8x' } },
  ]);
}
