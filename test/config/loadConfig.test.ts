import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG, isConfigError, loadConfig, type ConfigError } from '../../src/index.js';
import { isStorageError } from '../../src/errors.js';
import { tempMoaiDir, thrown, writeConfigFile } from './helpers.js';

const noEnv = {};

async function loadError(dir: string, env: Record<string, string> = noEnv): Promise<ConfigError> {
  const error = await thrown(() => loadConfig({ dir, env }));
  expect(isConfigError(error), String(error)).toBe(true);
  return error as ConfigError;
}

describe('loadConfig', () => {
  it('returns the defaults when there is no config file', async () => {
    const dir = await tempMoaiDir();
    const loaded = await loadConfig({ dir, env: noEnv });
    expect(loaded.fromFile).toBe(false);
    expect(loaded.path).toBe(join(dir, 'config', 'config.json'));
    expect(loaded.config).toEqual(DEFAULT_CONFIG);
    expect(loaded.config.session.context_budget.warning_threshold_percent).toBe(75);
    expect(loaded.config.session.context_budget.reserve_tokens).toBe(55_000);
    expect(loaded.config.store).toEqual({ kind: 'file', durability: 'batch', lock_wait_ms: 5_000 });
  });

  it('merges a partial file over the defaults, key by key', async () => {
    const dir = await tempMoaiDir();
    await writeConfigFile(dir, {
      $schema: './config.schema.json',
      session: { context_budget: { warning_threshold_percent: 70 }, max_parallel_sessions: 5 },
      models: { context_windows: { 'claude-sonnet-4-5': 1_000_000 } },
    });
    const { config, fromFile } = await loadConfig({ dir, env: noEnv });
    expect(fromFile).toBe(true);
    expect(config.session.context_budget.warning_threshold_percent).toBe(70);
    expect(config.session.max_parallel_sessions).toBe(5);
    // Siblings of the keys given keep their defaults.
    expect(config.session.context_budget.emergency_threshold_percent).toBe(85);
    expect(config.session.context_budget.allocation).toEqual({ system: 7.5, conversation: 40, reference: 25, reserve: 27.5 });
    expect(config.session.checkpoint_interval_minutes).toBe(10);
    expect(config.models.context_windows).toEqual({ 'claude-sonnet-4-5': 1_000_000 });
    expect(config.store.kind).toBe('file');
    expect(config).not.toHaveProperty('$schema');
  });

  it('names a misspelt key, suggests the intended one and lists the allowed keys', async () => {
    const dir = await tempMoaiDir();
    const path = await writeConfigFile(dir, { session: { context_budget: { warning_treshold_percent: 70 } } });
    const error = await loadError(dir);
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain(path);
    expect(error.message).toContain('Unknown key session.context_budget.warning_treshold_percent');
    expect(error.message).toContain('Did you mean warning_threshold_percent?');
    expect(error.message).toContain(
      'monitor_threshold_percent, warning_threshold_percent, emergency_threshold_percent, reserve_tokens, allocation',
    );
    expect(error.issues.map((issue) => issue.key)).toEqual(['session.context_budget.warning_treshold_percent']);
  });

  it('names the key, the value and what is allowed for a wrong type', async () => {
    const dir = await tempMoaiDir();
    await writeConfigFile(dir, { session: { context_budget: { warning_threshold_percent: '70' } } });
    const error = await loadError(dir);
    expect(error.message).toContain(
      'session.context_budget.warning_threshold_percent is "70" (text in quotes), but it must be an integer from 1 to 100.',
    );
  });

  it('names the allowed values of an enumerated key', async () => {
    const dir = await tempMoaiDir();
    await writeConfigFile(dir, { session: { recovery_strategy: 'fastest' } });
    const error = await loadError(dir);
    expect(error.message).toContain(
      'session.recovery_strategy is "fastest", but it must be one of "progressive_summarization", "checkpoint_only", "full_replay".',
    );
  });

  it('refuses a warning threshold at or above the emergency threshold', async () => {
    const dir = await tempMoaiDir();
    await writeConfigFile(dir, { session: { context_budget: { warning_threshold_percent: 85, emergency_threshold_percent: 85 } } });
    const error = await loadError(dir);
    expect(error.issues.map((issue) => issue.key)).toEqual(['session.context_budget.warning_threshold_percent']);
    expect(error.message).toContain('warning_threshold_percent is 85, but it must be below emergency_threshold_percent (85)');
  });

  it('refuses a monitor threshold at or above the warning threshold', async () => {
    const dir = await tempMoaiDir();
    await writeConfigFile(dir, { session: { context_budget: { monitor_threshold_percent: 80 } } });
    const error = await loadError(dir);
    expect(error.message).toContain('monitor_threshold_percent is 80, but it must be below warning_threshold_percent (75)');
  });

  it('refuses a negative reserve', async () => {
    const dir = await tempMoaiDir();
    await writeConfigFile(dir, { session: { context_budget: { reserve_tokens: -1000 } } });
    const error = await loadError(dir);
    expect(error.message).toContain('session.context_budget.reserve_tokens is -1000, but it must be an integer of at least 0.');
  });

  it('reports invalid JSON with the file, line and column', async () => {
    const dir = await tempMoaiDir();
    const path = await writeConfigFile(dir, '{\n  "session": {\n    "forking_enabled": false,\n  }\n}\n');
    const error = await loadError(dir);
    // The trailing comma after `false` on line 3.
    expect(error.issues[0]).toMatchObject({ line: 3, column: 29 });
    expect(error.message).toContain(`${path} at line 3, column 29`);
    expect(error.message).toContain('comma after the last entry');
  });

  it('reports a missing comma at the key that follows it', async () => {
    const dir = await tempMoaiDir();
    await writeConfigFile(dir, '{\n  "session": {\n    "forking_enabled": false\n    "auto_checkpoint": true\n  }\n}\n');
    const error = await loadError(dir);
    expect(error.issues[0]).toMatchObject({ line: 4, column: 5 });
    expect(error.message).toContain('is a comma missing?');
  });

  it('refuses a key written twice in one object', async () => {
    const dir = await tempMoaiDir();
    await writeConfigFile(dir, '{\n  "store": { "kind": "file" },\n  "store": { "durability": "always" }\n}\n');
    const error = await loadError(dir);
    expect(error.issues[0]).toMatchObject({ key: 'store', line: 3, column: 3 });
    expect(error.message).toContain('store is written twice');
  });

  it('refuses an empty file and says how to get the defaults', async () => {
    const dir = await tempMoaiDir();
    await writeConfigFile(dir, '\n');
    const error = await loadError(dir);
    expect(error.message).toContain('the file is empty. Write {} to use the defaults');
  });

  it('reports a config path that cannot be read as a storage error', async () => {
    const dir = await tempMoaiDir();
    await mkdir(join(dir, 'config', 'config.json'), { recursive: true });
    const error = await thrown(() => loadConfig({ dir, env: noEnv }));
    expect(isStorageError(error)).toBe(true);
    expect((error as Error).message).toContain(join(dir, 'config', 'config.json'));
  });

  describe('MOAI_STORE_URL', () => {
    it('makes the store PostgreSQL at that URL, keeping the rest of the store settings', async () => {
      const dir = await tempMoaiDir();
      await writeConfigFile(dir, { store: { durability: 'always' } });
      const url = 'postgresql://moai:secret@db.internal:5432/moai';
      const loaded = await loadConfig({ dir, env: { MOAI_STORE_URL: url } });
      expect(loaded.storeFromEnv).toBe(true);
      expect(loaded.config.store).toEqual({ kind: 'postgres', url, durability: 'always', lock_wait_ms: 5_000 });
    });

    it('supplies the URL a file with kind postgres leaves out', async () => {
      const dir = await tempMoaiDir();
      await writeConfigFile(dir, { store: { kind: 'postgres' } });
      await expect(loadConfig({ dir, env: noEnv })).rejects.toThrow('store.url is not set');
      const { config } = await loadConfig({ dir, env: { MOAI_STORE_URL: 'postgres://localhost/moai' } });
      expect(config.store.url).toBe('postgres://localhost/moai');
    });

    it('refuses a URL that is not PostgreSQL, without echoing its password', async () => {
      const dir = await tempMoaiDir();
      const error = await loadError(dir, { MOAI_STORE_URL: 'mysql://moai:hunter2@db/moai' });
      expect(error.source).toBe('MOAI_STORE_URL');
      expect(error.message).toContain('MOAI_STORE_URL is "mysql://moai:****@db/moai"');
      expect(error.message).toContain('postgres:// or postgresql://');
      expect(error.message).not.toContain('hunter2');
    });

    it('refuses something that is not a URL at all', async () => {
      const dir = await tempMoaiDir();
      const error = await loadError(dir, { MOAI_STORE_URL: '/var/lib/moai' });
      expect(error.message).toContain('MOAI_STORE_URL is "/var/lib/moai", but it is not a URL');
    });

    it('ignores an empty value', async () => {
      const dir = await tempMoaiDir();
      const loaded = await loadConfig({ dir, env: { MOAI_STORE_URL: '' } });
      expect(loaded.storeFromEnv).toBe(false);
      expect(loaded.config.store.kind).toBe('file');
    });

    it('reads process.env when no env is given, and only then', async () => {
      const dir = await tempMoaiDir();
      vi.stubEnv('MOAI_STORE_URL', 'postgres://localhost:5432/from_process');
      try {
        expect((await loadConfig({ dir })).config.store.url).toBe('postgres://localhost:5432/from_process');
        expect((await loadConfig({ dir, env: noEnv })).config.store.kind).toBe('file');
      } finally {
        vi.unstubAllEnvs();
      }
    });
  });
});
