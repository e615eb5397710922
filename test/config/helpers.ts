import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];

afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh `.moai` folder path inside a temp dir, removed after the test. The folder itself is not created. */
export async function tempMoaiDir(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'moai-config-'));
  made.push(root);
  return join(root, '.moai');
}

/** Write `<dir>/config/config.json` with `text` (an object is written as JSON). */
export async function writeConfigFile(dir: string, content: string | object): Promise<string> {
  const path = join(dir, 'config', 'config.json');
  await mkdir(join(dir, 'config'), { recursive: true });
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

/** Run `fn` and return what it threw; fails the test when it does not throw. */
export async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, but none was thrown');
}
