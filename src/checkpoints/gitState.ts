import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/**
 * The git state of a working folder, as a checkpoint records it: the HEAD
 * commit (null in a repository with no commit yet), the branch (null on a
 * detached HEAD), and how many files differ from HEAD (changed, staged,
 * conflicted or untracked; ignored files are not counted).
 */
export interface GitState {
  commit: string | null;
  branch: string | null;
  changedFiles: number;
}

/** Options of {@link readGitState}. */
export interface ReadGitStateOptions {
  /** Give up after this long, in ms (the state is then unknown). Defaults to 3,000. */
  timeoutMs?: number;
  /** The environment git runs in; defaults to this process's. */
  env?: NodeJS.ProcessEnv;
}

/** True when `folder` or a folder above it holds `.git` (a folder, or the file of a worktree or submodule). */
async function insideRepository(folder: string): Promise<boolean> {
  for (let current = resolve(folder); ; current = dirname(current)) {
    if (await stat(join(current, '.git')).then(() => true, () => false)) return true;
    if (dirname(current) === current) return false;
  }
}

/**
 * Parse the output of `git status --porcelain=v2 --branch`: the `# branch.oid`
 * and `# branch.head` headers, then one line per changed or untracked file.
 */
export function parseGitStatus(output: string): GitState {
  let commit: string | null = null;
  let branch: string | null = null;
  let changedFiles = 0;
  for (const line of output.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# branch.oid ')) {
      const oid = line.slice('# branch.oid '.length).trim();
      commit = /^[0-9a-f]{7,64}$/.test(oid) ? oid : null; // "(initial)" before the first commit
    } else if (line.startsWith('# branch.head ')) {
      const head = line.slice('# branch.head '.length).trim();
      branch = head === '(detached)' || head === '' ? null : head;
    } else if (!line.startsWith('#') && !line.startsWith('! ')) {
      changedFiles++;
    }
  }
  return { commit, branch, changedFiles };
}

/**
 * The git state of `folder` with one call of `git status --porcelain=v2
 * --branch` (with `GIT_OPTIONAL_LOCKS=0`, so it never takes the index lock
 * from the user's own git commands). A folder that is in no repository (no
 * `.git` above it, and no `GIT_DIR`), a machine without git, an error or a
 * timeout give `undefined`: no git is not an error. Never throws.
 *
 * @example
 * const git = await readGitState(process.cwd());
 * // { commit: '3f2a...', branch: 'main', changedFiles: 2 }
 */
export async function readGitState(folder: string, options: ReadGitStateOptions = {}): Promise<GitState | undefined> {
  const env = options.env ?? process.env;
  try {
    if (env['GIT_DIR'] === undefined && !(await insideRepository(folder))) return undefined;
  } catch {
    return undefined;
  }
  return new Promise((resolvePromise) => {
    execFile(
      'git',
      ['status', '--porcelain=v2', '--branch'],
      {
        cwd: folder,
        env: { ...env, GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' },
        timeout: options.timeoutMs ?? 3000,
        maxBuffer: 64 * 1024 * 1024,
        windowsHide: true,
      },
      (error, stdout) => {
        resolvePromise(error === null ? parseGitStatus(String(stdout)) : undefined);
      },
    );
  });
}

/** A commit as messages show it: its first 12 characters. */
const shortCommit = (commit: string | null): string => (commit === null ? '(no commit)' : commit.slice(0, 12));
const branchName = (branch: string | null): string => branch ?? '(detached HEAD)';
const files = (n: number): string => `${n} changed file${n === 1 ? '' : 's'}`;

/** How the repository differs now from what a checkpoint recorded. */
export interface GitComparison {
  /** True when HEAD or the branch is not what the checkpoint recorded. */
  moved: boolean;
  /** True when the number of changed files differs. */
  workingTreeChanged: boolean;
  /** One sentence, or undefined when nothing differs or nothing can be compared. */
  message: string | undefined;
}

/**
 * Compare the git state a checkpoint recorded with the state now. Nothing to
 * compare (no state at the checkpoint, or none now) is said in the message
 * only when one side had a repository.
 *
 * @example
 * compareGitStates(checkpoint.git, await readGitState(cwd)).message;
 * // 'the repository moved since the checkpoint: HEAD 3f2a9c1d0b4e -> 9b81c0a7d2e4, branch main -> feature; 2 changed files (0 at the checkpoint)'
 */
export function compareGitStates(atCheckpoint: GitState | undefined, now: GitState | undefined): GitComparison {
  if (atCheckpoint === undefined && now === undefined) return { moved: false, workingTreeChanged: false, message: undefined };
  if (atCheckpoint === undefined) {
    return { moved: false, workingTreeChanged: false, message: 'the checkpoint recorded no git state, so whether the repository moved is not known' };
  }
  if (now === undefined) {
    return {
      moved: false,
      workingTreeChanged: false,
      message: `the checkpoint recorded HEAD ${shortCommit(atCheckpoint.commit)} on ${branchName(atCheckpoint.branch)}, but the working folder is no git repository now (or git cannot be run)`,
    };
  }
  const changes: string[] = [];
  if (atCheckpoint.commit !== now.commit) changes.push(`HEAD ${shortCommit(atCheckpoint.commit)} -> ${shortCommit(now.commit)}`);
  if (atCheckpoint.branch !== now.branch) changes.push(`branch ${branchName(atCheckpoint.branch)} -> ${branchName(now.branch)}`);
  const moved = changes.length > 0;
  const workingTreeChanged = atCheckpoint.changedFiles !== now.changedFiles;
  const tree = workingTreeChanged ? `${files(now.changedFiles)} (${atCheckpoint.changedFiles} at the checkpoint)` : undefined;
  if (!moved && tree === undefined) return { moved, workingTreeChanged, message: undefined };
  const message = moved
    ? `the repository moved since the checkpoint: ${changes.join(', ')}${tree === undefined ? '' : `; ${tree}`}`
    : `the repository is at the checkpoint's HEAD, but the working tree changed: ${tree}`;
  return { moved, workingTreeChanged, message };
}

/** A git state in one line: `main @ 3f2a9c1d0b4e, 2 changed files`. */
export function describeGitState(state: GitState): string {
  return `${branchName(state.branch)} @ ${shortCommit(state.commit)}, ${files(state.changedFiles)}`;
}
