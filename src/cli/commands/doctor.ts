import { EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { stateFolder } from '../stateFolder.js';

/**
 * `moai-session doctor`: check the Claude Code integration (where the hooks
 * are installed and whether the command they run exists, the state folder's
 * log, the spool, the problems in the hook log). Exit 1 when a check finds a
 * problem.
 */
export async function doctorCommand(options: GlobalOptions, io: CliIo): Promise<number> {
  const { claudeCodeDoctor } = await import('../../integrations/claude-code/doctor.js');
  const report = await claudeCodeDoctor({ dir: stateFolder(options, io), cwd: io.cwd, env: io.env });
  if (options.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const mark = { ok: 'ok     ', warn: 'warn   ', problem: 'PROBLEM' } as const;
    for (const check of report.checks) io.stdout(`${mark[check.level]}  ${check.topic.padEnd(12)}  ${check.message}\n`);
    io.stdout(report.healthy ? '\nThe Claude Code integration works.\n' : '\nSomething above needs fixing.\n');
  }
  return report.healthy ? EXIT.ok : EXIT.userError;
}
