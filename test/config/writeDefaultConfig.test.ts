import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, defaultConfigText, loadConfig, writeDefaultConfig } from '../../src/index.js';
import { tempMoaiDir, writeConfigFile } from './helpers.js';

describe('writeDefaultConfig', () => {
  it('writes the defaults as 2-space JSON with a $schema key and a trailing newline', async () => {
    const dir = await tempMoaiDir();
    const result = await writeDefaultConfig(dir);
    expect(result).toEqual({ written: true, path: join(dir, 'config', 'config.json') });
    const text = await readFile(result.path, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "session": {\n    "persistence_enabled": true,');
    const { $schema, ...rest } = JSON.parse(text) as Record<string, unknown>;
    expect($schema).toBe('./config.schema.json');
    expect(rest).toEqual(DEFAULT_CONFIG);
  });

  it('writes a file that loads back as the defaults', async () => {
    const dir = await tempMoaiDir();
    await writeDefaultConfig(dir);
    const loaded = await loadConfig({ dir, env: {} });
    expect(loaded.fromFile).toBe(true);
    expect(loaded.config).toEqual(DEFAULT_CONFIG);
  });

  it('never overwrites an existing config file', async () => {
    const dir = await tempMoaiDir();
    const path = await writeConfigFile(dir, '{ "session": { "max_parallel_sessions": 8 } }\n');
    const result = await writeDefaultConfig(dir);
    expect(result).toEqual({ written: false, path });
    expect(await readFile(path, 'utf8')).toBe('{ "session": { "max_parallel_sessions": 8 } }\n');
  });

  it('writes once when called twice at the same time, and leaves no temporary files', async () => {
    const dir = await tempMoaiDir();
    const results = await Promise.all([writeDefaultConfig(dir), writeDefaultConfig(dir), writeDefaultConfig(dir)]);
    expect(results.filter((result) => result.written)).toHaveLength(1);
    expect(await readdir(join(dir, 'config'))).toEqual(['config.json']);
    expect(await readFile(join(dir, 'config', 'config.json'), 'utf8')).toBe(defaultConfigText());
  });

  it('matches the committed .moai/config/config.json', async () => {
    const committed = fileURLToPath(new URL('../../.moai/config/config.json', import.meta.url));
    expect(await readFile(committed, 'utf8')).toBe(defaultConfigText());
  });
});
