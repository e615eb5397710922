// `moai-session install claude-code` / `uninstall claude-code`: moai-session's
// hooks (and optionally its status line) merged into a Claude Code settings
// file, everything else in it kept as it was.

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORE_HOOK_EVENTS, NEWER_HOOK_EVENTS, installInto, uninstallFrom, type SettingsChange } from './claudeSettings.js';
import { editSettingsText, readSettingsFile, settingsText, unifiedDiff, writeSettingsFile } from './settingsFile.js';

/** Which settings file: the project's (`.claude/settings.json`), the project's local one (`settings.local.json`), or the user's. */
export type SettingsScope = 'project' | 'local' | 'user';

/** Options of {@link installClaudeCode} and {@link uninstallClaudeCode}. */
export interface InstallClaudeCodeOptions {
  scope: SettingsScope;
  /** The project folder (for `project` and `local`). */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Also install the status line. */
  statusLine?: boolean;
  /** Replace another tool's status line. */
  replaceStatusLine?: boolean;
  /** Also the events newer Claude Codes have (PostCompact, StopFailure, PostModelSwitch, TaskCreated, TaskCompleted). */
  allEvents?: boolean;
  /** Print the diff, write nothing. */
  dryRun?: boolean;
  /** The command that runs moai-session (default: this Node.js and this package's binary, by absolute paths: {@link moaiCommand}). */
  command?: string;
}

/** What an install or uninstall did. */
export interface InstallClaudeCodeResult extends Omit<SettingsChange, 'settings'> {
  path: string;
  /** The diff of the file, old to new (empty when nothing changes). */
  diff: string;
  /** True when the file was written (not with `dryRun`, not when nothing changed). */
  written: boolean;
  backup: string | undefined;
  command: string;
}

/** The settings file of a scope. */
export function settingsPathOf(scope: SettingsScope, cwd: string, env: Readonly<Record<string, string | undefined>>): string {
  if (scope === 'user') {
    const config = env.CLAUDE_CONFIG_DIR?.split(',')[0]?.trim();
    return join(config !== undefined && config !== '' ? resolve(config) : join(env.HOME ?? homedir(), '.claude'), 'settings.json');
  }
  return join(resolve(cwd), '.claude', scope === 'local' ? 'settings.local.json' : 'settings.json');
}

/** A word quoted for a POSIX shell. */
export const shellQuote = (word: string): string => (/^[A-Za-z0-9_\/.:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/**
 * The command that runs this package's binary from any working folder: the
 * Node.js running this install (`process.execPath`) and the built `main.js`,
 * both by absolute paths, quoted for the shell, so neither the folder Claude
 * Code runs the hook in nor its PATH (a desktop launch, nvm, volta, asdf)
 * decides which Node.js and which moai-session run.
 */
export function moaiCommand(node: string = process.execPath): string {
  const here = fileURLToPath(import.meta.url);
  const candidates = [
    fileURLToPath(new URL('../../cli/main.js', import.meta.url)),
    // Run from the sources (tests, tsx): the build beside them.
    resolve(here, '..', '..', '..', '..', 'dist', 'src', 'cli', 'main.js'),
  ];
  const binary = candidates.find((path) => path.endsWith('.js') && existsSync(path)) ?? candidates[0]!;
  return `${shellQuote(node)} ${shellQuote(binary)}`;
}

function apply(options: InstallClaudeCodeOptions, change: (settings: Record<string, unknown>, where: string) => SettingsChange, command: string): InstallClaudeCodeResult {
  const path = settingsPathOf(options.scope, options.cwd, options.env);
  const file = readSettingsFile(path);
  const { settings, ...summary } = change(file.settings, path);
  const next = file.text === undefined || file.text.trim() === '' ? settingsText(settings, file.indent) : editSettingsText(file.text, file.settings, settings, file.indent);
  const old = file.text ?? '';
  // An uninstall from a file that never had us (or none at all) changes nothing.
  const same = (file.text === undefined && summary.added === 0) || JSON.stringify(settings) === JSON.stringify(file.settings);
  const diff = same ? '' : unifiedDiff(old, next, file.text === undefined ? '/dev/null' : path, path);
  let backup: string | undefined;
  const written = !same && options.dryRun !== true;
  if (written) backup = writeSettingsFile(path, next, file.text);
  return { ...summary, path, diff, written, backup, command };
}

/**
 * Merge moai-session's hooks into a Claude Code settings file: every other
 * key and every other tool's hooks kept as they were, ours (marked by
 * `# moai-session:claude-code` at the end of the command) replaced. A file
 * that is not valid JSON is refused with the position, writing nothing.
 */
export function installClaudeCode(options: InstallClaudeCodeOptions): InstallClaudeCodeResult {
  const command = options.command ?? moaiCommand();
  const events = options.allEvents === true ? [...CORE_HOOK_EVENTS, ...NEWER_HOOK_EVENTS] : [...CORE_HOOK_EVENTS];
  return apply(
    options,
    (settings, where) =>
      installInto(settings, { command, events, ...(options.statusLine === undefined ? {} : { statusLine: options.statusLine }), ...(options.replaceStatusLine === undefined ? {} : { replaceStatusLine: options.replaceStatusLine }) }, where),
    command,
  );
}

/** Remove moai-session's hooks and status line from a Claude Code settings file, and nothing else. */
export function uninstallClaudeCode(options: InstallClaudeCodeOptions): InstallClaudeCodeResult {
  return apply(options, uninstallFrom, options.command ?? moaiCommand());
}
