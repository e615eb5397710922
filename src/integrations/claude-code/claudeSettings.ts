// Claude Code's settings.json as the installer edits it: moai-session's own
// hook entries (and status line) added, replaced or removed, and everything
// else left as it was. Pure: a parsed settings object in, a new one out. Our
// entries are the handlers whose command ends with OUR_MARKER (a shell
// comment), so a reinstall replaces them and an uninstall removes only them.

import { SettingsFileError } from './settingsFile.js';

/** The shell comment that marks a command as moai-session's own. */
export const OUR_MARKER = '# moai-session:claude-code';

/** The events installed by default: those every Claude Code since 2.0 knows (an older one may refuse a settings file naming an event it does not). */
export const CORE_HOOK_EVENTS = ['SessionStart', 'UserPromptSubmit', 'PostToolUse', 'PostToolUseFailure', 'PreCompact', 'Stop', 'SubagentStart', 'SubagentStop', 'SessionEnd'] as const;
/** The newer events that record something, installed with `--all-events`. */
export const NEWER_HOOK_EVENTS = ['PostCompact', 'StopFailure', 'PostModelSwitch', 'TaskCreated', 'TaskCompleted'] as const;
/** Events whose matcher is a tool name: ours matches every tool. */
const TOOL_EVENTS: ReadonlySet<string> = new Set(['PostToolUse', 'PostToolUseFailure']);
/** Seconds Claude Code gives our hook before it goes on without it. */
export const HOOK_TIMEOUT_SECONDS = 30;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** True when a hook handler (or a status line) is one of ours. */
export const isOurs = (handler: unknown): boolean => isObject(handler) && typeof handler.command === 'string' && handler.command.trimEnd().endsWith(OUR_MARKER);

/** What to install. */
export interface InstallPlan {
  /** The command that runs moai-session (an absolute path, quoted for the shell), without arguments. */
  command: string;
  events: readonly string[];
  /** Also set `statusLine` (only when there is none, or it is ours, unless `replaceStatusLine`). */
  statusLine?: boolean;
  /** Replace another tool's status line. */
  replaceStatusLine?: boolean;
}

/** What an install or uninstall changed, besides the new settings. */
export interface SettingsChange {
  settings: Json;
  /** Our hook handlers before and after. */
  removed: number;
  added: number;
  /** The status line was set, removed, or left because another tool's is there. */
  statusLine: 'set' | 'removed' | 'kept-other' | 'unchanged';
}

/** The `hooks` object of a settings file, checked: an object of arrays. */
function hooksOf(settings: Json, where: string): Json | undefined {
  const hooks = settings.hooks;
  if (hooks === undefined) return undefined;
  if (!isObject(hooks)) throw new SettingsFileError(`${where}: "hooks" is ${Array.isArray(hooks) ? 'an array' : typeof hooks}, not an object of events; fix it first (nothing was written).`);
  for (const [event, groups] of Object.entries(hooks)) {
    if (!Array.isArray(groups)) throw new SettingsFileError(`${where}: "hooks.${event}" is not an array of matcher groups; fix it first (nothing was written).`);
  }
  return hooks;
}

/** The settings without any of our handlers: groups and events left empty by that are dropped; everything else is as it was. */
export function withoutOurs(settings: Json, where: string): { settings: Json; removed: number; statusLine: boolean } {
  const out: Json = { ...settings };
  let removed = 0;
  const hooks = hooksOf(settings, where);
  if (hooks !== undefined) {
    const nextHooks: Json = {};
    for (const [event, groups] of Object.entries(hooks)) {
      let touched = false;
      const kept: unknown[] = [];
      for (const group of groups as unknown[]) {
        if (!isObject(group) || !Array.isArray(group.hooks)) {
          kept.push(group);
          continue;
        }
        const handlers = group.hooks.filter((handler) => !isOurs(handler));
        if (handlers.length === group.hooks.length) {
          kept.push(group);
          continue;
        }
        touched = true;
        removed += group.hooks.length - handlers.length;
        if (handlers.length > 0) kept.push({ ...group, hooks: handlers });
      }
      if (!touched || kept.length > 0) nextHooks[event] = touched ? kept : groups;
    }
    if (Object.keys(nextHooks).length > 0 || removed === 0) out.hooks = nextHooks;
    else delete out.hooks;
  }
  const statusLine = isOurs(settings.statusLine);
  if (statusLine) delete out.statusLine;
  return { settings: out, removed, statusLine };
}

/** The settings with our handlers installed (any earlier ones of ours replaced, in place of nothing else). */
export function installInto(settings: Json, plan: InstallPlan, where: string): SettingsChange {
  const before = withoutOurs(settings, where);
  const out = before.settings;
  const hooks: Json = isObject(out.hooks) ? { ...out.hooks } : {};
  for (const event of plan.events) {
    const group: Json = {};
    if (TOOL_EVENTS.has(event)) group.matcher = '*';
    group.hooks = [{ type: 'command', command: `${plan.command} hook ${OUR_MARKER}`, timeout: HOOK_TIMEOUT_SECONDS }];
    hooks[event] = [...((hooks[event] as unknown[] | undefined) ?? []), group];
  }
  out.hooks = hooks;
  let statusLine: SettingsChange['statusLine'] = before.statusLine ? 'removed' : 'unchanged';
  if (plan.statusLine === true) {
    if (out.statusLine !== undefined && plan.replaceStatusLine !== true) statusLine = 'kept-other';
    else {
      out.statusLine = { type: 'command', command: `${plan.command} statusline ${OUR_MARKER}`, padding: 0 };
      statusLine = 'set';
    }
  } else if (before.statusLine) {
    // A reinstall without --statusline keeps the status line it installed before.
    out.statusLine = settings.statusLine;
    statusLine = 'unchanged';
  }
  return { settings: out, removed: before.removed, added: plan.events.length, statusLine };
}

/** The settings with our handlers and status line removed. */
export function uninstallFrom(settings: Json, where: string): SettingsChange {
  const after = withoutOurs(settings, where);
  return { settings: after.settings, removed: after.removed, added: 0, statusLine: after.statusLine ? 'removed' : 'unchanged' };
}
