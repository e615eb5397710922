// moai-session doctor: what it finds in a project with the integration working, and with each way it breaks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claudeCodeDoctor } from '../../../src/integrations/claude-code/doctor.js';
import { installClaudeCode } from '../../../src/integrations/claude-code/installClaudeCode.js';
import { spoolPayload } from '../../../src/integrations/claude-code/hookSpool.js';
import { runInProcess } from '../../cli/runInProcess.js';
import { base, fire, tempProject } from './hookHelpers.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

function project() {
  const made = tempProject('moai-doctor-');
  cleanups.push(made.remove);
  return made;
}

describe('moai-session doctor', () => {
  it('finds a working integration healthy, and says where the hooks are installed', async () => {
    const { root, dir } = project();
    installClaudeCode({ scope: 'project', cwd: root, env: {} });
    await fire(dir, { ...base('s1', '/none.jsonl', 'SessionStart'), source: 'startup' });
    const report = await claudeCodeDoctor({ dir, cwd: root, env: { HOME: join(root, 'home') } });
    expect(report.healthy).toBe(true);
    expect(report.installs.map((i) => [i.scope, i.events.length])).toEqual([['project', 9]]);
    expect(report.checks.find((c) => c.topic === 'state-folder')?.message).toContain('1 session, 1 from Claude Code');
    const cli = await runInProcess(['doctor'], root, { env: { HOME: join(root, 'home') } });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('The Claude Code integration works.');
  });

  it('reports no install, a command that is gone, a spool that waits, payloads set aside and the hook log errors, and exits 1', async () => {
    const { root, dir } = project();
    const none = await claudeCodeDoctor({ dir, cwd: root, env: { HOME: join(root, 'home') } });
    expect(none.healthy).toBe(false);
    expect(none.checks.map((c) => c.level)).toContain('problem');
    expect(none.checks.find((c) => c.topic === 'install')?.message).toMatch(/No Claude Code settings file runs the hook/);

    installClaudeCode({ scope: 'local', cwd: root, env: {}, command: "node '/gone/moai session/main.js'" });
    await fire(dir, 'not json');
    spoolPayload(dir, { hook_event_name: 'Stop', session_id: 'x' }, new Date(Date.now() - 120_000));
    mkdirSync(join(dir, 'spool', 'claude-code', 'failed'), { recursive: true });
    writeFileSync(join(dir, 'spool', 'claude-code', 'failed', '000000000000001-000000-1-aa.json'), '{}');
    const report = await claudeCodeDoctor({ dir, cwd: root, env: { HOME: join(root, 'home') } });
    const problems = report.checks.filter((c) => c.level === 'problem').map((c) => c.message);
    expect(problems.some((m) => m.includes("the hook runs /gone/moai session/main.js, which does not exist"))).toBe(true);
    expect(problems.some((m) => /1 payload waits in the spool \(the oldest for 1[12]\d s\)/.test(m))).toBe(true);
    expect(problems.some((m) => m.includes('1 payload could not be applied'))).toBe(true);
    expect(problems.some((m) => /hook\.log: 1 error, the last at .*not JSON/.test(m))).toBe(true);
    const cli = await runInProcess(['doctor', '--json'], root, { env: { HOME: join(root, 'home') } });
    expect(cli.code).toBe(1);
    expect(JSON.parse(cli.stdout).spool.waiting).toBe(1);
  });
});
