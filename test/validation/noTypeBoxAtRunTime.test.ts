import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * What a command or a hook loads on its way through a valid config and valid
 * events, seen by a resolve hook in a fresh Node process: the validators run
 * code generated at build time and must not load TypeBox; only explaining an
 * invalid value may.
 */

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
let dir: string;

// A resolve hook that writes each module it resolves to stderr.
const HOOK = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  process.stderr.write('RESOLVED ' + result.url + '\\\\n');
  return result;
}\`));
`;

// require() goes past the resolve hook: the script lists what it loaded that way at the end.
const LIST_REQUIRED = `
import { createRequire as listRequired } from 'node:module';
for (const path of Object.keys(listRequired(import.meta.url).cache)) process.stderr.write('RESOLVED file://' + path + '\\n');
`;

/** The URLs of the modules `script` loads (imported or required), run as an ES module from the repository with tsx. */
async function modulesLoadedBy(script: string): Promise<string[]> {
  const file = join(dir, 'script.mts');
  await writeFile(file, script + LIST_REQUIRED);
  const { stderr } = await run(process.execPath, ['--import', 'tsx', '--import', join(dir, 'hook.mjs'), file], { cwd: root });
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('RESOLVED '))
    .map((line) => line.slice('RESOLVED '.length));
}

const src = (path: string) => JSON.stringify(join(root, 'src', path));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'moai-no-typebox-'));
  await writeFile(join(dir, 'hook.mjs'), HOOK);
  await mkdir(join(dir, '.moai', 'config'), { recursive: true });
  await writeFile(join(dir, '.moai', 'config', 'config.json'), JSON.stringify({ session: { max_parallel_sessions: 5 } }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the validation every command runs', () => {
  it('validates events, a config and a handoff package without loading TypeBox', async () => {
    const loaded = await modulesLoadedBy(`
      import { parseStoredEvent, validateNewEvents } from ${src('events/validate.ts')};
      import { loadConfig } from ${src('config/loadConfig.ts')};
      import { validateHandoffPackage } from ${src('handoff/validateHandoffPackage.ts')};
      import { VALID_HANDOFF_PACKAGE } from ${JSON.stringify(join(root, 'test/validation/samples.ts'))};
      const meta = { at: '2026-01-01T00:00:00Z' };
      validateNewEvents('session-s1', [{ id: 'e1', type: 'TaskAdded', meta, data: { taskId: 't1', title: 'T' } }]);
      parseStoredEvent({ position: 1, stream: 'session-s1', version: 1, id: 'e1', type: 'TaskAdded', schemaVersion: 1, meta, data: { taskId: 't1', title: 'T' } }, 'x:1');
      // An older version is upcast and checked again: still no TypeBox.
      parseStoredEvent({ position: 2, stream: 'session-s1', version: 2, id: 'e2', type: 'TokenUsageRecorded', schemaVersion: 1, meta, data: { model: 'm', tokens: { input: 1, output: 2 } } }, 'x:2');
      const { config } = await loadConfig({ dir: ${JSON.stringify(join(dir, '.moai'))}, env: {} });
      if (config.session.max_parallel_sessions !== 5) throw new Error('config not read');
      if (!validateHandoffPackage(VALID_HANDOFF_PACKAGE, { minAvailableTokens: 0, compatibleAgents: {} }).ok) throw new Error('package refused');
    `);
    expect(loaded.some((url) => url.includes('/src/events/generated/eventChecks'))).toBe(true);
    expect(loaded.filter((url) => url.includes('@sinclair/typebox'))).toEqual([]);
  });

  it('loads TypeBox only to explain a value that fails (so the probe above would see it)', async () => {
    const loaded = await modulesLoadedBy(`
      import { validateNewEvents } from ${src('events/validate.ts')};
      try {
        validateNewEvents('session-s1', [{ id: 'e1', type: 'TaskAdded', meta: { at: 'now' }, data: { taskId: 't1' } }]);
      } catch (error) {
        if (!String(error).includes('data.title is missing')) throw error;
      }
    `);
    expect(loaded.some((url) => url.includes('@sinclair/typebox'))).toBe(true);
  });
});
