import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileCheckpointStore, createMemoryCheckpointStore } from '../../src/checkpoints/checkpointStore.js';
import { tempDir } from '../helpers.js';
import { checkpointStoreContract, sampleCheckpointDocument } from './checkpointStoreContract.js';

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});
async function freshDir(): Promise<string> {
  const dir = await tempDir('moai-checkpoints-');
  folders.push(dir);
  return dir;
}

checkpointStoreContract('file', async () => createFileCheckpointStore(await freshDir(), { workingFolder: false }));
checkpointStoreContract('memory', async () => createMemoryCheckpointStore());

describe('the file checkpoint store', () => {
  it('writes <dir>/sessions/checkpoints/<sessionId>/<id>.json as 2-space JSON, and archives to sessions/archive/<sessionId>/', async () => {
    const dir = await freshDir();
    const store = createFileCheckpointStore(dir, { workingFolder: false });
    const document = sampleCheckpointDocument('demo', 'cp-1');
    await store.save(document);
    const file = join(dir, 'sessions', 'checkpoints', 'demo', 'cp-1.json');
    expect(store.fileOf?.('demo', 'cp-1')).toBe(file);
    expect(await readFile(file, 'utf8')).toBe(`${JSON.stringify(document, null, 2)}\n`);
    // No temporary file is left behind.
    expect(await readdir(join(dir, 'sessions', 'checkpoints', 'demo'))).toEqual(['cp-1.json']);
    await store.archive('cp-1', 'demo');
    expect(await readdir(join(dir, 'sessions', 'checkpoints', 'demo'))).toEqual([]);
    expect(JSON.parse(await readFile(join(dir, 'sessions', 'archive', 'demo', 'cp-1.json'), 'utf8'))).toEqual(document);
    // Archived again under the same id: the first archived file is kept.
    await store.save(document);
    await store.archive('cp-1', 'demo');
    expect((await readdir(join(dir, 'sessions', 'archive', 'demo'))).sort()).toEqual(['cp-1.2.json', 'cp-1.json']);
  });

  it('still reads, lists and archives a document of the layout before the folder per session', async () => {
    const dir = await freshDir();
    const store = createFileCheckpointStore(dir, { workingFolder: false });
    const old = sampleCheckpointDocument('demo', 'cp-old');
    await mkdir(join(dir, 'sessions', 'checkpoints'), { recursive: true });
    await writeFile(join(dir, 'sessions', 'checkpoints', 'cp-old.json'), JSON.stringify(old));
    await store.save(sampleCheckpointDocument('demo', 'cp-new'));
    expect(await store.load('demo', 'cp-old')).toMatchObject({ ok: true, document: old, file: join(dir, 'sessions', 'checkpoints', 'cp-old.json') });
    // Another session's flat document is not this session's.
    expect(await store.load('other', 'cp-old')).toBeUndefined();
    expect((await store.list('demo')).map((found) => found.ok && found.document.checkpointId)).toEqual(['cp-new', 'cp-old']);
    await store.archive('cp-old');
    expect(await store.load('demo', 'cp-old')).toBeUndefined();
    expect(await readdir(join(dir, 'sessions', 'archive', 'demo'))).toEqual(['cp-old.json']);
  });

  it('reports a document it cannot read as not ok, with the file and the reason', async () => {
    const dir = await freshDir();
    const store = createFileCheckpointStore(dir, { workingFolder: false });
    await mkdir(join(dir, 'sessions', 'checkpoints', 'demo'), { recursive: true });
    await writeFile(join(dir, 'sessions', 'checkpoints', 'demo', 'cp-1.json'), '{"state":');
    const file = join(dir, 'sessions', 'checkpoints', 'demo', 'cp-1.json');
    expect(await store.load('demo', 'cp-1')).toEqual({ ok: false, checkpointId: 'cp-1', file, reason: expect.stringMatching(/JSON/) });
    expect(await store.list('demo')).toEqual([{ ok: false, checkpointId: 'cp-1', file, reason: expect.stringMatching(/JSON/) }]);
  });

  it('refuses ids that cannot be file names, naming them, and writes nothing', async () => {
    const dir = await freshDir();
    const store = createFileCheckpointStore(dir, { workingFolder: false });
    await expect(store.save(sampleCheckpointDocument('../up', 'cp-1'))).rejects.toThrow(/"\.\.\/up" cannot be a file name/);
    await expect(readdir(join(dir, 'sessions'))).rejects.toThrow(/ENOENT/);
  });

  it('records the git state of the folder that holds the state folder, unless told not to', async () => {
    expect(createFileCheckpointStore('/work/project/.moai').workingFolder).toBe('/work/project');
    expect(createFileCheckpointStore('/work/project/.moai', { workingFolder: '/elsewhere' }).workingFolder).toBe('/elsewhere');
    expect(createFileCheckpointStore('/work/project/.moai', { workingFolder: false }).workingFolder).toBeUndefined();
  });
});
