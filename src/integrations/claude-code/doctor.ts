// `moai-session doctor`: is the Claude Code integration working? What is
// installed where (and whether the command it runs is there), the state
// folder and its log, the spool (payloads waiting, payloads set aside), and
// the problems the hook logged. Read-only.

import { existsSync, statSync } from 'node:fs';
import { isOurs, CORE_HOOK_EVENTS } from './claudeSettings.js';
import { readHookLog, hookLogPath, type HookLogEntry } from './hookLog.js';
import { listFailedSpool, listSpool } from './hookSpool.js';
import { settingsPathOf, type SettingsScope } from './installClaudeCode.js';
import { readSettingsFile } from './settingsFile.js';

/** One finding: `ok`, a `warn`ing (works, with a caveat), or a `problem` (something is not recorded). */
export interface DoctorCheck {
  level: 'ok' | 'warn' | 'problem';
  topic: 'install' | 'state-folder' | 'spool' | 'hook-log';
  message: string;
}

/** What `moai-session doctor` found. */
export interface DoctorReport {
  dir: string;
  checks: DoctorCheck[];
  /** The settings files that hold our hooks, with the events they run it for. */
  installs: { scope: SettingsScope; path: string; events: string[]; statusLine: boolean; command: string | undefined }[];
  spool: { waiting: number; oldest: string | undefined; setAside: string[] };
  /** The hook log's errors and warnings, newest last (at most 20). */
  logged: HookLogEntry[];
  /** True when no check is a problem. */
  healthy: boolean;
}

/** Options of {@link claudeCodeDoctor}. */
export interface DoctorOptions {
  /** The state folder. */
  dir: string;
  /** The project folder (for the project's settings files). */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** The clock (tests). */
  now?: Date;
}

/** The path of the script a command `<node> '<path>' ...` runs (its interpreter a bare or quoted word), if it names one. */
function scriptOf(command: string): string | undefined {
  const match = /^\s*(?:'(?:[^']|'\\'')*'|\S*node\S*)\s+(?:'((?:[^']|'\\'')*)'|(\S+))/.exec(command);
  const path = match?.[1]?.replace(/'\\''/g, "'") ?? match?.[2];
  return path;
}

/** Check the Claude Code integration of a project and its state folder. */
export async function claudeCodeDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const installs: DoctorReport['installs'] = [];
  for (const scope of ['project', 'local', 'user'] as const) {
    const path = settingsPathOf(scope, options.cwd, options.env);
    if (!existsSync(path)) continue;
    let settings: Record<string, unknown>;
    try {
      settings = readSettingsFile(path).settings;
    } catch (error) {
      checks.push({ level: 'problem', topic: 'install', message: (error as Error).message });
      continue;
    }
    const hooks = typeof settings.hooks === 'object' && settings.hooks !== null ? (settings.hooks as Record<string, unknown>) : {};
    const events: string[] = [];
    let command: string | undefined;
    for (const [event, groups] of Object.entries(hooks)) {
      if (!Array.isArray(groups)) continue;
      for (const group of groups) {
        const handlers = (group as { hooks?: unknown }).hooks;
        if (!Array.isArray(handlers)) continue;
        for (const handler of handlers) {
          if (!isOurs(handler)) continue;
          if (!events.includes(event)) events.push(event);
          command ??= (handler as { command: string }).command;
        }
      }
    }
    const statusLine = isOurs(settings.statusLine);
    if (events.length === 0 && !statusLine) continue;
    installs.push({ scope, path, events, statusLine, command });
    const missing = CORE_HOOK_EVENTS.filter((event) => !events.includes(event));
    if (missing.length > 0) checks.push({ level: 'warn', topic: 'install', message: `${path} runs the hook for ${events.length} events; not for ${missing.join(', ')} (run \`moai-session install claude-code\` again).` });
    const script = command === undefined ? undefined : scriptOf(command);
    if (script !== undefined && !existsSync(script)) {
      checks.push({ level: 'problem', topic: 'install', message: `${path}: the hook runs ${script}, which does not exist (moved or uninstalled?): run \`moai-session install claude-code\` again from the package you use.` });
    } else {
      checks.push({ level: 'ok', topic: 'install', message: `${path}: the hook runs for ${events.join(', ')}${statusLine ? '; the status line is ours' : ''}.` });
    }
  }
  if (installs.length === 0) checks.push({ level: 'problem', topic: 'install', message: 'No Claude Code settings file runs the hook: run `moai-session install claude-code` (or with --local or --user).' });

  if (!existsSync(options.dir)) {
    checks.push({ level: 'warn', topic: 'state-folder', message: `${options.dir} does not exist yet: the first hook creates it.` });
  } else {
    try {
      const { openStateFolder } = await import('../../runtime/openStateFolder.js');
      const folder = await openStateFolder({ dir: options.dir, mode: 'read' });
      try {
        const sessions = await folder.engine.listSessions();
        const claude = sessions.filter((s) => s.agent === 'claude-code' || s.agents.includes('claude-code'));
        checks.push({ level: 'ok', topic: 'state-folder', message: `${options.dir}: the log reads; ${sessions.length} session${sessions.length === 1 ? '' : 's'}, ${claude.length} from Claude Code.` });
      } finally {
        await folder.close();
      }
    } catch (error) {
      checks.push({ level: 'problem', topic: 'state-folder', message: `${options.dir}: the log cannot be read (${(error as Error).message}).` });
    }
  }

  const waiting = listSpool(options.dir);
  const setAside = listFailedSpool(options.dir);
  const now = (options.now ?? new Date()).getTime();
  const oldestMs = waiting.length === 0 ? undefined : Number(waiting[0]!.split('-')[0]);
  const oldest = oldestMs === undefined || !Number.isFinite(oldestMs) ? undefined : new Date(oldestMs).toISOString();
  if (waiting.length > 0) {
    const ageS = oldestMs === undefined ? 0 : Math.round((now - oldestMs) / 1000);
    checks.push({
      level: ageS > 60 ? 'problem' : 'warn',
      topic: 'spool',
      message: `${waiting.length} payload${waiting.length === 1 ? '' : 's'} wait${waiting.length === 1 ? 's' : ''} in the spool (the oldest for ${ageS} s): the next hook applies them, or \`moai-session hook --drain\` now.`,
    });
  } else checks.push({ level: 'ok', topic: 'spool', message: 'No payload waits in the spool.' });
  if (setAside.length > 0) {
    checks.push({ level: 'problem', topic: 'spool', message: `${setAside.length} payload${setAside.length === 1 ? '' : 's'} could not be applied and were set aside in ${options.dir}/spool/claude-code/failed/ (the hook log says why).` });
  }

  const logged = readHookLog(options.dir).filter((entry) => entry.level !== 'info');
  const errors = logged.filter((entry) => entry.level === 'error');
  if (errors.length > 0) {
    const last = errors.at(-1)!;
    checks.push({ level: 'problem', topic: 'hook-log', message: `${hookLogPath(options.dir)}: ${errors.length} error${errors.length === 1 ? '' : 's'}, the last at ${last.at}: ${last.message.split('\n')[0]}` });
  } else if (logged.length > 0) {
    checks.push({ level: 'warn', topic: 'hook-log', message: `${hookLogPath(options.dir)}: ${logged.length} warning${logged.length === 1 ? '' : 's'}, the last: ${logged.at(-1)!.message.split('\n')[0]}` });
  } else {
    const size = existsSync(hookLogPath(options.dir)) ? statSync(hookLogPath(options.dir)).size : 0;
    checks.push({ level: 'ok', topic: 'hook-log', message: size === 0 ? 'The hook has logged no problem.' : 'The hook log holds no error or warning.' });
  }
  return {
    dir: options.dir,
    checks,
    installs,
    spool: { waiting: waiting.length, oldest, setAside },
    logged: logged.slice(-20),
    healthy: checks.every((check) => check.level !== 'problem'),
  };
}
