// The installer on settings files as people have them: other tools' hooks
// with several matchers per event, a status line, permissions, a plugin's
// hooks; installed twice, uninstalled, and compared.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OUR_MARKER, CORE_HOOK_EVENTS } from '../../../src/integrations/claude-code/claudeSettings.js';
import { installClaudeCode, moaiCommand, uninstallClaudeCode, settingsPathOf } from '../../../src/integrations/claude-code/installClaudeCode.js';
import { isMoaiError } from '../../../src/errors.js';
import { runInProcess } from '../../cli/runInProcess.js';
import { readSession } from './hookHelpers.js';

let roots: string[] = [];
afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

function projectWith(settings: string | undefined, name = 'settings.json'): { root: string; path: string } {
  const root = mkdtempSync(join(tmpdir(), 'moai-install-'));
  roots.push(root);
  mkdirSync(join(root, '.claude'), { recursive: true });
  const path = join(root, '.claude', name);
  if (settings !== undefined) writeFileSync(path, settings);
  return { root, path };
}

/** A team's project settings: permissions, env, a formatter and a guard on several matchers, a notifier, a status line. */
const TEAM_SETTINGS = `{
  "$schema": "https://json.schemastore.org/claude-code-settings.json",
  "model": "claude-sonnet-4-5",
  "permissions": {
    "allow": ["Bash(npm run test:*)", "Read(~/.zshrc)"],
    "deny": ["Read(./.env)", "Read(./secrets/**)"],
    "defaultMode": "acceptEdits"
  },
  "env": { "DISABLE_TELEMETRY": "1", "MAX_THINKING_TOKENS": "31999" },
  "hooks": {
    "PreToolUse": [
      { "matcher": "Bash", "hooks": [{ "type": "command", "command": "python3 \\"$CLAUDE_PROJECT_DIR\\"/.claude/hooks/bash_guard.py", "timeout": 10 }] },
      { "matcher": "Edit|MultiEdit|Write", "hooks": [{ "type": "command", "command": "node .claude/hooks/protect-files.js" }] }
    ],
    "PostToolUse": [
      { "matcher": "Edit|MultiEdit|Write", "hooks": [{ "type": "command", "command": "npx prettier --write \\"$CLAUDE_FILE_PATHS\\"" }, { "type": "command", "command": "npx eslint --fix" }] },
      { "matcher": "mcp__github__.*", "hooks": [{ "type": "http", "url": "http://localhost:8080/hooks/post" }] }
    ],
    "Stop": [{ "hooks": [{ "type": "command", "command": "afplay /System/Library/Sounds/Glass.aiff" }] }],
    "Notification": [{ "matcher": "permission_prompt", "hooks": [{ "type": "command", "command": "terminal-notifier -message \\"Claude needs you\\"" }] }]
  },
  "statusLine": { "type": "command", "command": "~/.claude/statusline.sh", "padding": 0 },
  "enabledPlugins": { "formatter@acme-tools": true },
  "cleanupPeriodDays": 30
}
`;

/** A user's settings with a plugin-style set of hooks (tab-indented, as some editors write it). */
const PLUGIN_SETTINGS = `{
\t"hooks": {
\t\t"SessionStart": [
\t\t\t{ "matcher": "startup|resume", "hooks": [{ "type": "command", "command": "\${CLAUDE_PLUGIN_ROOT}/hooks/load-context.sh" }] },
\t\t\t{ "matcher": "compact", "hooks": [{ "type": "command", "command": "\${CLAUDE_PLUGIN_ROOT}/hooks/after-compact.sh" }] }
\t\t],
\t\t"SessionEnd": [{ "hooks": [{ "type": "command", "command": "ccusage session --json > /tmp/last.json" }] }],
\t\t"UserPromptSubmit": [{ "hooks": [{ "type": "prompt", "prompt": "Check the prompt for secrets." }] }]
\t},
\t"alwaysThinkingEnabled": true,
\t"feedbackSurveyState": { "lastShownTime": 1754089567134 }
}
`;

const parse = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
const handlersOf = (settings: Record<string, any>, event: string): any[] => (settings.hooks?.[event] ?? []).flatMap((group: any) => group.hooks);
const ours = (settings: Record<string, any>) =>
  Object.entries(settings.hooks ?? {}).flatMap(([event, groups]) => (groups as any[]).flatMap((g) => g.hooks.filter((h: any) => String(h.command ?? '').endsWith(OUR_MARKER)).map(() => event)));

describe('install claude-code', () => {
  for (const [name, text] of [['a team project', TEAM_SETTINGS], ['a plugin user', PLUGIN_SETTINGS]] as const) {
    it(`keeps every other key and hook of ${name}'s settings, adds ours once however often it runs, and uninstall gives the file back`, () => {
      const { root, path } = projectWith(text);
      const original = JSON.parse(text) as Record<string, any>;
      const first = installClaudeCode({ scope: 'project', cwd: root, env: {}, command: 'node /opt/moai/main.js' });
      expect(first.written).toBe(true);
      const installed = parse(path);
      // Every key that was there is there, the same, apart from `hooks`, where the old groups come first, in order.
      for (const [key, value] of Object.entries(original)) if (key !== 'hooks') expect(installed[key], key).toEqual(value);
      for (const [event, groups] of Object.entries(original.hooks)) expect(installed.hooks[event].slice(0, (groups as any[]).length), event).toEqual(groups);
      expect(ours(installed).sort()).toEqual([...CORE_HOOK_EVENTS].sort());
      expect(handlersOf(installed, 'PostToolUse').at(-1)).toEqual({ type: 'command', command: `node /opt/moai/main.js hook ${OUR_MARKER}`, timeout: 30 });
      // The indentation of the file is kept.
      expect(readFileSync(path, 'utf8').split('\n')[1]!.startsWith(text.includes('\t') ? '\t"' : '  "')).toBe(true);
      // The backup is the file as it was.
      expect(readFileSync(first.backup!, 'utf8')).toBe(text);

      const afterFirst = readFileSync(path, 'utf8');
      const second = installClaudeCode({ scope: 'project', cwd: root, env: {}, command: 'node /opt/moai/main.js' });
      expect(second.written).toBe(false);
      expect(readFileSync(path, 'utf8')).toBe(afterFirst);
      // A reinstall with another command replaces ours, adding none.
      installClaudeCode({ scope: 'project', cwd: root, env: {}, command: 'node /elsewhere/main.js' });
      expect(ours(parse(path))).toHaveLength(CORE_HOOK_EVENTS.length);
      expect(JSON.stringify(parse(path))).not.toContain('/opt/moai');

      const removed = uninstallClaudeCode({ scope: 'project', cwd: root, env: {} });
      expect(removed.removed).toBe(CORE_HOOK_EVENTS.length);
      expect(readFileSync(path, 'utf8')).toBe(text);
    });
  }

  it("leaves another tool's status line unless told to replace it; uninstall removes only ours", () => {
    const { root, path } = projectWith(TEAM_SETTINGS);
    expect(installClaudeCode({ scope: 'project', cwd: root, env: {}, statusLine: true, command: 'node /m.js' }).statusLine).toBe('kept-other');
    expect(parse(path).statusLine.command).toBe('~/.claude/statusline.sh');
    expect(installClaudeCode({ scope: 'project', cwd: root, env: {}, statusLine: true, replaceStatusLine: true, command: 'node /m.js' }).statusLine).toBe('set');
    expect(parse(path).statusLine.command).toBe(`node /m.js statusline ${OUR_MARKER}`);
    uninstallClaudeCode({ scope: 'project', cwd: root, env: {} });
    expect(parse(path).statusLine).toBeUndefined();
    expect(parse(path).hooks).toEqual(JSON.parse(TEAM_SETTINGS).hooks);
  });

  it('creates the settings file when there is none, and uninstall leaves an empty object', () => {
    const { root, path } = projectWith(undefined);
    const result = installClaudeCode({ scope: 'project', cwd: root, env: {}, statusLine: true, command: 'node /m.js' });
    expect(result.backup).toBeUndefined();
    expect(Object.keys(parse(path))).toEqual(['hooks', 'statusLine']);
    uninstallClaudeCode({ scope: 'project', cwd: root, env: {} });
    expect(parse(path)).toEqual({});
  });

  it('refuses a file that is not valid JSON, naming the line and column, and writes nothing', () => {
    const broken = '{\n  "model": "claude-opus-4-6",\n  "hooks": { "Stop": [] },\n  // a comment\n}\n';
    const { root, path } = projectWith(broken);
    let caught: unknown;
    try {
      installClaudeCode({ scope: 'project', cwd: root, env: {}, command: 'node /m.js' });
    } catch (error) {
      caught = error;
    }
    expect(isMoaiError(caught)).toBe(true);
    expect((caught as Error).message).toContain(`${path} is not valid JSON at line 4, column 3`);
    expect(readFileSync(path, 'utf8')).toBe(broken);
    expect(existsSync(`${path}.moai-session.bak`)).toBe(false);
  });

  it('names the line and column of every kind of syntax error, writing nothing', () => {
    const cases: [string, number, number][] = [
      ['{ "hooks": { "Stop": [ } }\n', 1, 24], // V8: "Unexpected token '}'", no position
      ['{\n  "a": 1,\n  "b": 2,\n}\n', 4, 1], // a trailing comma
      ['{\n  "a": 1\n  "b": 2\n}\n', 3, 3], // a missing comma
      ['{\n  "a": tru\n}\n', 2, 8],
      ['{\n  "a": "x\n}\n', 2, 8], // an unterminated string
      ['{\n  "a": 1\n', 3, 1], // the end comes too soon
    ];
    for (const [text, line, column] of cases) {
      const { root, path } = projectWith(text, 'settings.local.json');
      expect(() => installClaudeCode({ scope: 'local', cwd: root, env: {}, command: 'node /m.js' }), JSON.stringify(text)).toThrow(`${path} is not valid JSON at line ${line}, column ${column} (`);
      expect(readFileSync(path, 'utf8')).toBe(text);
    }
  });

  it('refuses hooks of the wrong shape, naming the key', () => {
    const { root, path } = projectWith('{"hooks": {"Stop": {"command": "x"}}}');
    expect(() => installClaudeCode({ scope: 'project', cwd: root, env: {}, command: 'node /m.js' })).toThrow(/"hooks\.Stop" is not an array/);
    expect(readFileSync(path, 'utf8')).toBe('{"hooks": {"Stop": {"command": "x"}}}');
  });

  it('--dry-run prints the diff and writes nothing; the diff is what the install then writes', async () => {
    const { root, path } = projectWith(PLUGIN_SETTINGS);
    const result = await runInProcess(['install', 'claude-code', '--dry-run'], root);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^--- .*settings\.json\n\+\+\+ .*settings\.json\n@@ -2,/);
    expect(readFileSync(path, 'utf8')).toBe(PLUGIN_SETTINGS);
    const patched = join(root, 'patched.json');
    execFileSync('patch', ['-s', '-o', patched, path], { input: result.stdout });
    await runInProcess(['install', 'claude-code'], root);
    expect(readFileSync(path, 'utf8')).toBe(readFileSync(patched, 'utf8'));
    // A line of the file goes only to come back longer (a comma, or ours after it on a one-line array): none is rewritten.
    const lines = result.stdout.split('\n');
    const removed = lines.filter((line) => line.startsWith('-') && !line.startsWith('---'));
    expect(removed.length).toBeGreaterThan(0);
    const withoutOurs = (line: string) => line.replace(/, \{"hooks":\[\{"type":"command","command":"[^"]*# moai-session:claude-code","timeout":30\}\]\}/, '');
    for (const line of removed) {
      const before = `+${line.slice(1)}`;
      expect(lines.some((added) => added !== before && [before, `${before},`].includes(withoutOurs(added))), line).toBe(true);
    }
  });

  it('writes the files --local and --user name', () => {
    const { root } = projectWith(undefined);
    const home = join(root, 'home');
    installClaudeCode({ scope: 'local', cwd: root, env: {}, command: 'node /m.js' });
    installClaudeCode({ scope: 'user', cwd: root, env: { HOME: home }, command: 'node /m.js' });
    expect(ours(parse(join(root, '.claude', 'settings.local.json')))).toHaveLength(CORE_HOOK_EVENTS.length);
    expect(ours(parse(join(home, '.claude', 'settings.json')))).toHaveLength(CORE_HOOK_EVENTS.length);
    expect(settingsPathOf('user', root, { CLAUDE_CONFIG_DIR: '/cfg/a,/cfg/b' })).toBe('/cfg/a/settings.json');
  });

  it('installs a command that records from any working folder Claude Code runs it in', () => {
    const { root, path } = projectWith(undefined);
    installClaudeCode({ scope: 'project', cwd: root, env: {}, allEvents: true });
    const command = handlersOf(parse(path), 'SessionStart')[0].command as string;
    mkdirSync(join(root, 'packages', 'deep'), { recursive: true });
    // As Claude Code runs a command hook: through the shell, in some folder of the project, with CLAUDE_PROJECT_DIR set.
    const stdout = execFileSync('/bin/sh', ['-c', command], {
      cwd: join(root, 'packages', 'deep'),
      env: { PATH: process.env.PATH, CLAUDE_PROJECT_DIR: root },
      input: JSON.stringify({ session_id: 'anywhere', transcript_path: '/none.jsonl', cwd: join(root, 'packages', 'deep'), hook_event_name: 'SessionStart', source: 'startup' }),
    }).toString();
    expect(JSON.parse(stdout).hookSpecificOutput.hookEventName).toBe('SessionStart');
    return readSession(join(root, '.moai'), 'anywhere').then(({ events }) => expect(events[0]?.type).toBe('SessionStarted'));
  });

  it('installs a command that runs this Node.js by its absolute path, quoted, whatever PATH Claude Code has', async () => {
    const { root, path } = projectWith(undefined);
    installClaudeCode({ scope: 'project', cwd: root, env: {} });
    expect(handlersOf(parse(path), 'Stop')[0].command.startsWith(`${process.execPath} `)).toBe(true);
    // A Node.js in a folder whose name the shell must have quoted (a space, a quote).
    const nodeDir = join(root, "my node's bin");
    mkdirSync(nodeDir);
    symlinkSync(process.execPath, join(nodeDir, 'node'));
    installClaudeCode({ scope: 'project', cwd: root, env: {}, command: moaiCommand(join(nodeDir, 'node')) });
    const command = handlersOf(parse(path), 'SessionStart')[0].command as string;
    // Claude Code launched from a desktop: no node on its PATH.
    const stdout = execFileSync('/bin/sh', ['-c', command], {
      cwd: root,
      env: { PATH: '/nonexistent', CLAUDE_PROJECT_DIR: root },
      input: JSON.stringify({ session_id: 'no-path', transcript_path: '/none.jsonl', cwd: root, hook_event_name: 'SessionStart', source: 'startup' }),
    }).toString();
    expect(JSON.parse(stdout).hookSpecificOutput.hookEventName).toBe('SessionStart');
    expect((await readSession(join(root, '.moai'), 'no-path')).events[0]?.type).toBe('SessionStarted');
  });
});
