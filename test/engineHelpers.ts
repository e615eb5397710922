import { afterEach } from 'vitest';
import {
  createEngine,
  createMemoryEventStore,
  DEFAULT_CONFIG,
  type Engine,
  type EngineOptions,
  type MoaiConfig,
  type StoredEvent,
} from '../src/index.js';
import { sequentialIds, steppingClock } from './helpers.js';

/** The default config with some `session` keys changed. */
export function configWith(session: Partial<MoaiConfig['session']>): MoaiConfig {
  return { ...DEFAULT_CONFIG, session: { ...DEFAULT_CONFIG.session, ...session } } as MoaiConfig;
}

/**
 * Engines on memory stores with a deterministic clock and ids, closed after
 * each test of the file that calls this at its top level.
 */
export function engineFactory(): (extra?: EngineOptions) => Promise<Engine> {
  const engines: Engine[] = [];
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
  });
  return async (extra = {}) => {
    const engine = await createEngine({ store: createMemoryEventStore(), clock: steppingClock(), ids: sequentialIds(), ...extra });
    engines.push(engine);
    return engine;
  };
}

/** Every event of one session's stream. */
export async function streamOf(engine: Engine, sessionId: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of engine.store.readStream(`session-${sessionId}`)) events.push(event);
  return events;
}
