import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareGitStates, parseGitStatus, readGitState } from '../../src/checkpoints/gitState.js';
import { createEngine, DEFAULT_CONFIG, type Engine, type EngineWarning } from '../../src/index.js';
import { sequentialIds, steppingClock, tempDir } from '../helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task();
});

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_SYSTEM: '/dev/null',
};
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();

/** A repository with one commit on branch `main`, and `.moai` ignored (as a project keeps its state folder). */
async function repository(): Promise<string> {
  const folder = await tempDir('moai-git-');
  cleanup.push(() => rm(folder, { recursive: true, force: true }));
  git(folder, 'init', '-q', '-b', 'main');
  await writeFile(join(folder, 'README.md'), '# project\n');
  await writeFile(join(folder, '.gitignore'), '.moai/\n');
  git(folder, 'add', '.');
  git(folder, 'commit', '-q', '-m', 'first');
  return folder;
}

async function engineIn(folder: string, warnings: EngineWarning[] = []): Promise<Engine> {
  const config = { ...DEFAULT_CONFIG, session: { ...DEFAULT_CONFIG.session, auto_checkpoint: false } };
  const engine = await createEngine({
    dir: join(folder, '.moai'),
    config,
    clock: steppingClock(),
    ids: sequentialIds(),
    onWarning: (warning) => warnings.push(warning),
  });
  cleanup.push(() => engine.close());
  return engine;
}

describe('the git state of a checkpoint', () => {
  it('parses git status --porcelain=v2 --branch: HEAD, branch, changed and untracked files, not ignored ones', () => {
    const output = [
      '# branch.oid 3f2a9c1d0b4e5f6a7b8c9d0e1f2a3b4c5d6e7f80',
      '# branch.head feature/x',
      '# branch.upstream origin/feature/x',
      '1 .M N... 100644 100644 100644 aaaaaaa bbbbbbb src/a.ts',
      '2 R. N... 100644 100644 100644 aaaaaaa bbbbbbb R100 src/c.ts\tsrc/b.ts',
      '? notes.txt',
      '! dist/',
      '',
    ].join('\n');
    expect(parseGitStatus(output)).toEqual({ commit: '3f2a9c1d0b4e5f6a7b8c9d0e1f2a3b4c5d6e7f80', branch: 'feature/x', changedFiles: 3 });
    expect(parseGitStatus('# branch.oid (initial)\n# branch.head (detached)\n')).toEqual({ commit: null, branch: null, changedFiles: 0 });
  });

  it('records HEAD, the branch and the changed files on every checkpoint, in the document and the event', async () => {
    const folder = await repository();
    const head = git(folder, 'rev-parse', 'HEAD');
    await writeFile(join(folder, 'README.md'), '# project, edited\n');
    await writeFile(join(folder, 'new.txt'), 'untracked\n');
    const engine = await engineIn(folder);
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'claude-sonnet-4-5' });
    const document = await session.checkpoint('manual');
    expect(document.git).toEqual({ commit: head, branch: 'main', changedFiles: 2 });
    const onDisk = JSON.parse(await readFile(join(folder, '.moai', 'sessions', 'checkpoints', 's1', `${document.checkpointId}.json`), 'utf8'));
    expect(onDisk.git).toEqual({ commit: head, branch: 'main', changedFiles: 2 });
    expect(session.state.checkpoints.all.toArray().at(-1)?.git).toEqual({ commit: head, branch: 'main', changedFiles: 2 });
  });

  it('records none, without an error, where there is no repository', async () => {
    const folder = await tempDir('moai-nogit-');
    cleanup.push(() => rm(folder, { recursive: true, force: true }));
    expect(await readGitState(folder, { env: { ...GIT_ENV, GIT_CEILING_DIRECTORIES: folder } })).toBeUndefined();
    const engine = await engineIn(folder);
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'claude-sonnet-4-5' });
    expect((await session.checkpoint('manual')).git).toBeNull();
  });

  it('reports in the recovery that the repository moved since the checkpoint it restores', async () => {
    const folder = await repository();
    const before = git(folder, 'rev-parse', 'HEAD');
    const warnings: EngineWarning[] = [];
    const engine = await engineIn(folder, warnings);
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.addTask({ taskId: 't1', title: 'Build' });
    await session.checkpoint('manual');
    await writeFile(join(folder, 'src.ts'), 'export {};\n');
    git(folder, 'add', '.');
    git(folder, 'commit', '-q', '-m', 'second');
    git(folder, 'checkout', '-q', '-b', 'feature');
    const after = git(folder, 'rev-parse', 'HEAD');

    const { report } = await engine.recover('s1');
    expect(report.git).toMatchObject({
      moved: true,
      workingTreeChanged: false,
      atCheckpoint: { commit: before, branch: 'main', changedFiles: 0 },
      now: { commit: after, branch: 'feature', changedFiles: 0 },
    });
    const line = `the repository moved since the checkpoint: HEAD ${before.slice(0, 12)} -> ${after.slice(0, 12)}, branch main -> feature`;
    expect(report.report).toContain(`Git: ${line}.`);
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'REPOSITORY_MOVED', message: `Session s1: ${line}.` }));
  });

  it('says nothing of git in a recovery when the repository is where the checkpoint left it', async () => {
    const folder = await repository();
    const engine = await engineIn(folder);
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'claude-sonnet-4-5' });
    await session.checkpoint('manual');
    const { report } = await engine.recover('s1');
    expect(report.git).toBeUndefined();
    expect(report.report).not.toContain('Git:');
  });

  it('compares what it can: a checkpoint without git state, a repository gone', () => {
    const state = { commit: 'a'.repeat(40), branch: 'main', changedFiles: 1 };
    expect(compareGitStates(state, state)).toEqual({ moved: false, workingTreeChanged: false, message: undefined });
    expect(compareGitStates(state, { ...state, changedFiles: 3 }).message).toBe(
      "the repository is at the checkpoint's HEAD, but the working tree changed: 3 changed files (1 at the checkpoint)",
    );
    expect(compareGitStates(undefined, state).message).toMatch(/recorded no git state/);
    expect(compareGitStates(state, undefined).message).toMatch(/no git repository now/);
    expect(compareGitStates(undefined, undefined).message).toBeUndefined();
  });
});
