import { afterEach, describe, expect, it } from 'vitest';
import { buildCheckpointDocument, isCheckpointIntact, stateChecksum } from '../../src/checkpoints/checkpointDocument.js';
import { createEngine, createMemoryEventStore, DEFAULT_CONFIG, type Engine } from '../../src/index.js';
import { sequentialIds, steppingClock } from '../helpers.js';

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

async function view() {
  const config = { ...DEFAULT_CONFIG, session: { ...DEFAULT_CONFIG.session, auto_checkpoint: false } };
  const engine = await createEngine({ store: createMemoryEventStore(), config, clock: steppingClock(), ids: sequentialIds() });
  engines.push(engine);
  const s = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'claude-sonnet-4-5' });
  await s.addTask({ taskId: 'red', title: 'Failing test', phase: 'RED' });
  await s.addTask({ taskId: 'green', title: 'Make it pass', phase: 'GREEN' });
  await s.sendTask('red', 'START');
  await s.sendTask('green', 'START');
  await s.recordUsage({ input_tokens: 85_000, output_tokens: 10 });
  return s.state;
}

describe("the checkpoint document: the product's checkpoint structure beside the engine's", () => {
  it('has checkpoint_id, timestamp, phase, token_usage.used/available, context_snapshot, session_id and recovery_tokens_reserved', async () => {
    const state = await view();
    const document = buildCheckpointDocument('ckpt_1', 'requested', '2025-11-12T10:30:00Z', state, { contextWindow: 200_000, reserveTokens: 55_000 });
    expect(document).toMatchObject({
      checkpoint_id: 'ckpt_1',
      timestamp: '2025-11-12T10:30:00Z',
      // The phase of the task that moved last.
      phase: 'GREEN',
      // The document's own example: 85,000 used of 200,000, 115,000 available.
      token_usage: { used: 85_000, available: 115_000 },
      context_snapshot: '',
      session_id: 's1',
      recovery_tokens_reserved: 55_000,
      checkpointId: 'ckpt_1',
      sessionId: 's1',
      createdAt: '2025-11-12T10:30:00Z',
      version: state.version,
      viewFormat: 3,
      git: null,
    });
    expect(document.checksum).toBe(stateChecksum(document.state));
    expect(isCheckpointIntact(document)).toBe(true);
  });

  it("names the phase that just ended for a phase-end checkpoint, and no available tokens for a model whose window is not known", async () => {
    const state = await view();
    expect(buildCheckpointDocument('c', 'phase-end:RED', 'x', state).phase).toBe('RED');
    expect(buildCheckpointDocument('c', 'budget-warning, phase-end:REFACTOR', 'x', state).phase).toBe('REFACTOR');
    expect(buildCheckpointDocument('c', 'requested', 'x', state).token_usage).toEqual({ used: 85_000, available: null });
  });
});
