import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, createFileCheckpointStore, DEFAULT_CONFIG } from '../src/index.js';
import { median, report, settle } from './report.js';

const CHECKPOINTS = 100;
const FILES = 2_000;

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** A repository of FILES committed files in 20 folders, 10 of them then changed: a project as checkpoints see it. */
async function repository(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'moai-bench-git-'));
  for (let d = 0; d < 20; d++) {
    await mkdir(join(folder, `src${d}`));
    for (let f = 0; f < FILES / 20; f++) await writeFile(join(folder, `src${d}`, `file${f}.ts`), `export const x${f} = ${f};\n`);
  }
  await writeFile(join(folder, '.gitignore'), '.moai/\n');
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: folder, env: GIT_ENV });
  execFileSync('git', ['add', '.'], { cwd: folder, env: GIT_ENV });
  execFileSync('git', ['commit', '-q', '-m', 'bench'], { cwd: folder, env: GIT_ENV });
  for (let f = 0; f < 10; f++) await writeFile(join(folder, 'src0', `file${f}.ts`), 'changed\n');
  return folder;
}

/** Milliseconds per checkpoint on the file store, with the git state of `folder` recorded or not. */
async function msPerCheckpoint(folder: string, git: boolean): Promise<number> {
  const dir = join(folder, '.moai');
  const config = { ...DEFAULT_CONFIG, session: { ...DEFAULT_CONFIG.session, auto_checkpoint: false } };
  const engine = await createEngine({ dir, config, checkpoints: createFileCheckpointStore(dir, git ? {} : { workingFolder: false }) });
  const session = await engine.startSession({ agent: 'bench', model: 'claude-sonnet-4-5' });
  await session.addTask({ taskId: 't', title: 'T' });
  const started = performance.now();
  for (let i = 0; i < CHECKPOINTS; i++) await session.checkpoint('bench');
  const ms = (performance.now() - started) / CHECKPOINTS;
  await engine.close();
  await settle(dir);
  return ms;
}

/** A checkpoint that records the git state (one `git status --porcelain=v2 --branch`) against one that does not. */
export async function benchCheckpoint(): Promise<boolean> {
  const folder = await repository();
  try {
    await msPerCheckpoint(folder, true);
    const withGit: number[] = [];
    const without: number[] = [];
    for (let round = 0; round < 3; round++) {
      withGit.push(await msPerCheckpoint(folder, true));
      without.push(await msPerCheckpoint(folder, false));
    }
    const ours = median(withGit);
    const base = median(without);
    return report(
      `Checkpoint on the file store with the git state of a ${FILES.toLocaleString('en-US')}-file repository (10 changed), ${CHECKPOINTS} checkpoints (median of 3)`,
      ours,
      'ms per checkpoint',
      [{ baseline: 'the same checkpoint without the git state', baselineValue: base, ratio: ours / base }],
    );
  } finally {
    await settle(folder);
  }
}
