import { describe, expect, it } from 'vitest';
import { AppendQueue, type QueuedAppend } from '../../src/store/postgres/appendQueue.js';
import { sampleEvent } from '../../src/testing/index.js';

/** A queue whose "database" records each group and answers when told to. */
function recordingQueue(options = { maxEvents: 400, maxInFlight: 2, pipelineMinEvents: 200 }) {
  const groups: string[][] = [];
  const answers: (() => void)[] = [];
  const queue = new AppendQueue(
    (group: readonly QueuedAppend[]) =>
      new Promise((resolve) => {
        groups.push(group.map((a) => `${a.stream}:${a.events.length}`));
        answers.push(() => resolve(group.map(() => ({ actual: 0, firstPosition: 1 }))));
      }),
    options,
  );
  const push = (stream: string, count = 1) => queue.push({ stream, events: Array.from({ length: count }, () => sampleEvent()), expected: 'any' });
  const answerNext = async (): Promise<void> => {
    answers.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { groups, push, answerNext, queue, pending: () => answers.length };
}

describe('the PostgreSQL append queue', () => {
  it('gathers small appends that wait into one group, never two of one stream, in the order they came', async () => {
    const { groups, push, answerNext } = recordingQueue();
    void push('a');
    void push('b');
    void push('a');
    void push('c');
    void push('b');
    expect(groups).toEqual([['a:1']]); // the first goes at once
    await answerNext();
    expect(groups[1]).toEqual(['b:1', 'a:1', 'c:1']); // b's second append waits behind its first
    await answerNext();
    expect(groups[2]).toEqual(['b:1']);
  });

  it('lets the appenders just answered queue again before the next group goes, so groups stay full', async () => {
    const { groups, push, answerNext, pending } = recordingQueue();
    const loops = Promise.all(
      ['a', 'b', 'c', 'd'].map(async (stream) => {
        for (let i = 0; i < 3; i++) await push(stream);
      }),
    );
    for (let n = 0; n < 10 && pending() > 0; n++) await answerNext();
    await loops;
    // a went alone; then every appender is in every group, not two halves taking turns.
    expect(groups.map((g) => g.length)).toEqual([1, 4, 4, 3]);
  });

  it('sends a second group beside one in flight only when hundreds of events wait', async () => {
    const { groups, push } = recordingQueue();
    void push('a', 100);
    void push('b', 50);
    expect(groups).toHaveLength(1); // 50 waiting: gathered for the next group
    void push('c', 100);
    void push('d', 100);
    expect(groups).toEqual([['a:100'], ['b:50', 'c:100', 'd:100']]);
  });
});
