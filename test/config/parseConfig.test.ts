import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, isConfigError, parseConfig, type ConfigError } from '../../src/index.js';
import { isMoaiError } from '../../src/errors.js';

function parseError(value: unknown): ConfigError {
  try {
    parseConfig(value, 'test.json');
  } catch (error) {
    expect(isConfigError(error), String(error)).toBe(true);
    expect(isMoaiError(error)).toBe(true);
    return error as ConfigError;
  }
  throw new Error('expected parseConfig to throw');
}

describe('parseConfig', () => {
  it('returns a fresh copy of the defaults for an empty object', () => {
    const config = parseConfig({}, 'test.json');
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config).not.toBe(DEFAULT_CONFIG);
    config.session.max_parallel_sessions = 9;
    expect(DEFAULT_CONFIG.session.max_parallel_sessions).toBe(3);
  });

  it('keeps the defaults frozen', () => {
    expect(Object.isFrozen(DEFAULT_CONFIG.session.context_budget.allocation)).toBe(true);
  });

  it('does not keep references into the document it was given', () => {
    const document = { session: { handoff: { compatible_agents: { planner: ['coder'] } } } };
    const config = parseConfig(document, 'test.json');
    document.session.handoff.compatible_agents.planner.push('reviewer');
    expect(config.session.handoff.compatible_agents).toEqual({ planner: ['coder'] });
  });

  it('refuses a document that is not an object', () => {
    expect(parseError([]).message).toContain('must be a JSON object ({ ... }), but it is a list');
    expect(parseError(null).message).toContain('but it is null');
  });

  it('names the source in its message', () => {
    expect(parseError({ nope: 1 }).message).toMatch(/^Invalid configuration in test\.json: Unknown key nope\./);
  });

  it('lists the allowed top-level keys for an unknown one', () => {
    expect(parseError({ sesion: {} }).message).toContain(
      'Unknown key sesion. Did you mean session? The keys allowed at the top level are: $schema, session, models, store.',
    );
  });

  it('suggests the snake_case key for a camelCase one', () => {
    expect(parseError({ session: { maxParallelSessions: 4 } }).message).toContain('Did you mean max_parallel_sessions?');
  });

  it('says where a key at the wrong level belongs', () => {
    expect(parseError({ session: { reserve_tokens: 1000 } }).message).toContain(
      'reserve_tokens belongs in session.context_budget.',
    );
  });

  it('does not guess when no key is close', () => {
    expect(parseError({ session: { colour: 'blue' } }).message).not.toContain('Did you mean');
  });

  it('reports every problem, not just the first', () => {
    const error = parseError({
      session: { checkpoint_interval_minutes: 0, forking_enabled: 'yes', unknown_flag: true },
      store: { durability: 'sometimes' },
    });
    expect(error.issues.map((issue) => issue.key).sort()).toEqual([
      'session.checkpoint_interval_minutes',
      'session.forking_enabled',
      'session.unknown_flag',
      'store.durability',
    ]);
    expect(error.message).toContain('(4 problems)');
    expect(error.message).toContain('session.checkpoint_interval_minutes is 0, but it must be an integer of at least 1.');
    expect(error.message).toContain('session.forking_enabled is "yes", but it must be true or false.');
    expect(error.message).toContain('store.durability is "sometimes", but it must be one of "always", "batch", "none".');
  });

  it('refuses an out-of-range threshold and says the range', () => {
    expect(parseError({ session: { context_budget: { emergency_threshold_percent: 150 } } }).message).toContain(
      'session.context_budget.emergency_threshold_percent is 150, but it must be an integer from 1 to 100.',
    );
  });

  it('refuses allocation shares that do not add up to 100, and accepts rounding within 0.01', () => {
    const error = parseError({ session: { context_budget: { allocation: { system: 10 } } } });
    expect(error.message).toContain('add up to 102.5 (system 10 + conversation 40 + reference 25 + reserve 27.5)');
    const thirds = { system: 0, conversation: 33.333, reference: 33.333, reserve: 33.333 };
    expect(parseConfig({ session: { context_budget: { allocation: thirds } } }, 'test.json').session.context_budget.allocation).toEqual(
      thirds,
    );
  });

  it('names a map entry with a bad key or value', () => {
    const error = parseError({ models: { context_windows: { 'claude-sonnet-4.5': 500, 'has space': 200_000 } } });
    expect(error.message).toContain('models.context_windows["claude-sonnet-4.5"] is 500, but it must be an integer of at least 1000.');
    expect(error.message).toContain('models.context_windows has the key "has space", but each key must be a model id');
  });

  it('checks the agent compatibility map', () => {
    const error = parseError({ session: { handoff: { compatible_agents: { planner: ['coder', 'coder'], coder: [''] } } } });
    expect(error.message).toContain('session.handoff.compatible_agents.planner is ["coder","coder"], which names an agent more than once');
    expect(error.message).toContain('session.handoff.compatible_agents.coder[0] is "", but it must be an agent name');
    const ok = parseConfig({ session: { handoff: { compatible_agents: { planner: ['coder', 'reviewer'] } } } }, 'test.json');
    expect(ok.session.handoff.compatible_agents['planner']).toEqual(['coder', 'reviewer']);
  });

  it('requires a URL for a postgres store and refuses a URL for a file store', () => {
    expect(parseError({ store: { kind: 'postgres' } }).message).toContain('store.kind is "postgres", but store.url is not set');
    expect(parseError({ store: { url: 'postgres://localhost/moai' } }).message).toContain(
      'store.url is set, but store.kind is "file"',
    );
    const config = parseConfig({ store: { kind: 'postgres', url: 'postgres://localhost/moai' } }, 'test.json');
    expect(config.store).toEqual({ kind: 'postgres', url: 'postgres://localhost/moai', durability: 'batch', lock_wait_ms: 5_000 });
  });

  it('hides the password of a bad store URL', () => {
    const message = parseError({ store: { kind: 'postgres', url: 'mysql://moai:hunter2@db/moai' } }).message;
    expect(message).toContain('store.url is "mysql://moai:****@db/moai"');
    expect(message).not.toContain('hunter2');
  });

  it('treats a "__proto__" key as an unknown key, not as a prototype', () => {
    const error = parseError(JSON.parse('{"__proto__": {"session": {"max_parallel_sessions": 99}}}'));
    expect(error.message).toContain('Unknown key __proto__.');
  });
});
