import { CliUsageError, EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';

/** Options of `moai-session install claude-code` and `uninstall claude-code`. */
export interface InstallCommandOptions extends GlobalOptions {
  /** What to install into: only `claude-code` is known. */
  target: string;
  user?: boolean;
  local?: boolean;
  statusline?: boolean;
  replaceStatusline?: boolean;
  allEvents?: boolean;
  dryRun?: boolean;
}

function scopeOf(options: InstallCommandOptions): 'project' | 'local' | 'user' {
  if (options.target !== 'claude-code') throw new CliUsageError(`moai-session installs into claude-code only; got ${JSON.stringify(options.target)}.`);
  if (options.user === true && options.local === true) throw new CliUsageError('Give --user or --local, not both.');
  return options.user === true ? 'user' : options.local === true ? 'local' : 'project';
}

/**
 * `moai-session install claude-code`: merge the hooks (and with
 * `--statusline` the status line) into `.claude/settings.json`, `--local`'s
 * `settings.local.json` or `--user`'s `~/.claude/settings.json`, keeping
 * everything else; `--dry-run` prints the diff and writes nothing.
 */
export async function installCommand(options: InstallCommandOptions, io: CliIo): Promise<number> {
  const scope = scopeOf(options);
  const { installClaudeCode } = await import('../../integrations/claude-code/installClaudeCode.js');
  const result = installClaudeCode({
    scope,
    cwd: io.cwd,
    env: io.env,
    statusLine: options.statusline === true,
    replaceStatusLine: options.replaceStatusline === true,
    allEvents: options.allEvents === true,
    dryRun: options.dryRun === true,
  });
  if (options.json) {
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT.ok;
  }
  if (options.dryRun === true) {
    io.stdout(result.diff === '' ? `${result.path}: nothing to change.\n` : result.diff);
    return EXIT.ok;
  }
  const what = `${result.added} hook${result.added === 1 ? '' : 's'}${result.removed > 0 ? ` (replacing ${result.removed} of an earlier install)` : ''}`;
  io.stdout(result.written ? `Installed ${what} in ${result.path}${result.backup === undefined ? '' : ` (the file as it was: ${result.backup})`}.\n` : `${result.path} already has them: nothing changed.\n`);
  if (result.statusLine === 'set') io.stdout('The status line runs moai-session statusline.\n');
  if (result.statusLine === 'kept-other') io.stdout('The status line was left as it is (another tool\'s); --replace-statusline replaces it.\n');
  io.stdout(`The hooks run: ${result.command} hook\n`);
  return EXIT.ok;
}

/** `moai-session uninstall claude-code`: remove moai-session's hooks and status line from the settings file, and nothing else. */
export async function uninstallCommand(options: InstallCommandOptions, io: CliIo): Promise<number> {
  const scope = scopeOf(options);
  const { uninstallClaudeCode } = await import('../../integrations/claude-code/installClaudeCode.js');
  const result = uninstallClaudeCode({ scope, cwd: io.cwd, env: io.env, dryRun: options.dryRun === true });
  if (options.json) {
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT.ok;
  }
  if (options.dryRun === true) {
    io.stdout(result.diff === '' ? `${result.path}: nothing to change.\n` : result.diff);
    return EXIT.ok;
  }
  io.stdout(
    result.written
      ? `Removed ${result.removed} hook${result.removed === 1 ? '' : 's'}${result.statusLine === 'removed' ? ' and the status line' : ''} from ${result.path}${result.backup === undefined ? '' : ` (the file as it was: ${result.backup})`}.\n`
      : `${result.path} has no moai-session hooks: nothing changed.\n`,
  );
  return EXIT.ok;
}
