import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createEngine, type StoredEvent } from '../../src/index.js';
import { tempDir } from '../helpers.js';

const run = promisify(execFile);
const receiver = join(import.meta.dirname, '../fixtures/acceptHandoff.ts');

describe('handoff across processes', () => {
  it('is accepted by exactly one of two receiver processes racing for it', async () => {
    const dir = await tempDir();
    const engine = await createEngine({ dir });
    const session = await engine.startSession({ sessionId: 's', agent: 'spec-writer', model: 'claude-sonnet-4-5' });
    const handoff = await session.requestHandoff({ toAgent: 'implementer', summary: 'Build it.' });
    await engine.close();

    const race = [1, 2].map(() =>
      run(process.execPath, ['--import', 'tsx', receiver, dir, 's', handoff.handoff_id, 'implementer']).then(
        ({ stdout }) => JSON.parse(stdout) as { accepted: boolean; message?: string },
      ),
    );
    const results = await Promise.all(race);
    expect(results.filter((r) => r.accepted)).toHaveLength(1);
    expect(results.find((r) => !r.accepted)!.message).toContain('was already accepted by implementer');

    const check = await createEngine({ dir });
    const events: StoredEvent[] = [];
    for await (const event of check.store.readStream('session-s')) events.push(event);
    await check.close();
    expect(events.filter((e) => e.type === 'HandoffAccepted')).toHaveLength(1);
  });
});
