import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CliUsageError, EXIT } from '../exitCodes.js';
import { tokens } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { withEngine } from '../stateFolder.js';
import { plural } from '../../util/plural.js';

/** Options of `moai-session import claude-code`. */
export interface ImportClaudeCodeCommandOptions extends GlobalOptions {
  /** The main transcripts, as typed. */
  files: string[];
  /** False with `--no-subagents`: the subagent files beside each main file are not read. */
  subagents: boolean;
  /** Every transcript under the Claude Code projects folder. */
  all: boolean;
}

/**
 * The Claude Code config folders: `CLAUDE_CONFIG_DIR` (a comma-separated
 * list, as ccusage reads it), else `~/.claude`.
 */
export function claudeConfigDirs(env: NodeJS.ProcessEnv): string[] {
  const named = (env.CLAUDE_CONFIG_DIR ?? '')
    .split(',')
    .map((dir) => dir.trim())
    .filter((dir) => dir !== '');
  return named.length > 0 ? named : [join(env.HOME ?? homedir(), '.claude')];
}

/** Every main transcript (`projects/<project>/<session>.jsonl`, not the `agent-*` files) under the Claude Code config folders, sorted. */
export async function allTranscripts(env: NodeJS.ProcessEnv): Promise<string[]> {
  const found: string[] = [];
  for (const root of claudeConfigDirs(env)) {
    const projects = join(root, 'projects');
    let names: string[];
    try {
      names = await readdir(projects);
    } catch {
      continue;
    }
    for (const project of names) {
      let files: string[];
      try {
        files = await readdir(join(projects, project));
      } catch {
        continue;
      }
      for (const file of files) if (file.endsWith('.jsonl') && !file.startsWith('agent-')) found.push(join(projects, project, file));
    }
  }
  return found.sort();
}

/** A progress bar on standard error: `[#####.....]  52% 78.1 MB of 150.0 MB, session 3 of 50`, redrawn at most 10 times a second. */
export function progressBar(io: CliIo, now: () => number = Date.now): { update: (done: number, total: number, label: string) => void; end: () => void } {
  let last = -Infinity;
  let drawn = false;
  return {
    update(done, total, label) {
      const at = now();
      if (at - last < 100 || total <= 0) return;
      last = at;
      const share = Math.min(1, done / total);
      const width = 30;
      const full = Math.round(share * width);
      const mb = (n: number): string => `${(n / 1_048_576).toFixed(1)} MB`;
      io.stderr(`\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(Math.round(share * 100)).padStart(3)}% ${mb(done)} of ${mb(total)}, ${label}\u001b[K`);
      drawn = true;
    },
    end() {
      if (drawn) io.stderr('\r\u001b[K');
      drawn = false;
    },
  };
}

/** Every named transcript, checked before anything is opened: a missing file or a folder is a usage error naming it. */
async function checkFiles(files: readonly string[]): Promise<void> {
  for (const file of files) {
    let info;
    try {
      info = await stat(file);
    } catch {
      throw new CliUsageError(`No transcript at ${file}.`);
    }
    if (info.isDirectory()) throw new CliUsageError(`${file} is a folder: name the transcripts in it (<session>.jsonl), or give --all for every project.`);
  }
}

/**
 * `moai-session import claude-code <transcript.jsonl>... [--no-subagents] [--all]`:
 * rebuild each session from its transcript (and its subagents'), every API
 * call once; importing again adds nothing, a file that grew adds only what is
 * new. `--json` prints the figures of the session (an array for several, and
 * for `--all`).
 */
export async function importClaudeCodeCommand(options: ImportClaudeCodeCommandOptions, io: CliIo): Promise<number> {
  const files = options.files.map((file) => resolve(io.cwd, file));
  if (options.all) files.push(...(await allTranscripts(io.env)));
  // Named twice (or named and under --all): imported once.
  files.splice(0, files.length, ...new Set(files));
  if (files.length === 0) {
    throw new CliUsageError(
      options.all
        ? `No transcript under ${claudeConfigDirs(io.env).map((dir) => join(dir, 'projects')).join(', ')}; set CLAUDE_CONFIG_DIR to the folder Claude Code writes to.`
        : 'Name the transcripts to import (a .jsonl under ~/.claude/projects/), or give --all.',
    );
  }
  await checkFiles(files);
  const { importClaudeCodeTranscripts } = await import('../../integrations/claude-code/importTranscripts.js');
  return withEngine(options, io, async (run) => {
    const bar = io.stdoutIsTerminal === true && !options.json ? progressBar(io) : undefined;
    let results;
    try {
      results = await importClaudeCodeTranscripts(run.engine, files, {
        subagents: options.subagents,
        prices: run.engine.settings.prices,
        // Each session's figures, kept for the next import of a session with nothing new.
        figuresCache: join(run.dir, 'cache', 'import-figures.json'),
        ...(bar === undefined
          ? {}
          : { onProgress: (done: number, total: number, session: { index: number; count: number }) => bar.update(done, total, `session ${session.index + 1} of ${session.count}`) }),
      });
    } finally {
      bar?.end();
    }
    if (options.json) {
      // One transcript named: its object; several, or --all: an array (of one, when the folder holds one session).
      io.stdout(`${JSON.stringify(results.length === 1 && !options.all ? results[0] : results, null, 2)}\n`);
      return EXIT.ok;
    }
    const lines: string[] = [];
    for (const r of results) {
      lines.push(
        `Session ${r.sessionId}: ${plural(r.apiCalls, 'API call')}, ${tokens(r.tokens.input + r.tokens.output + r.tokens.cacheCreation + r.tokens.cacheRead)} tokens ` +
          `(in ${tokens(r.tokens.input)}, out ${tokens(r.tokens.output)}, cache write ${tokens(r.tokens.cacheCreation)}, cache read ${tokens(r.tokens.cacheRead)}), ` +
          `$${r.costUsd.toFixed(2)}; ${plural(r.compactions.length, 'compaction')}, ${plural(r.subagents.length, 'subagent')}, ${plural(r.tasks.length, 'task')}; ` +
          `context peak ${tokens(r.peakContextTokens)}, last ${tokens(r.finalContextTokens)}.`,
      );
      if (r.pendingCalls > 0) {
        lines.push(`  Not final: ${plural(r.pendingCalls, 'reply', 'replies')} still open in ${r.files[0] ?? 'the transcript'} (changed in the last minute), left for the next import.`);
      }
      for (const skipped of r.skippedLines) io.stderr(`moai-session: skipped ${skipped.file}:${skipped.line}: ${skipped.reason}\n`);
    }
    const appended = run.appended.length;
    lines.push(appended === 0 ? 'Nothing new to import.' : `Appended ${plural(appended, 'event')}.`);
    io.stdout(`${lines.join('\n')}\n`);
    return EXIT.ok;
  });
}
