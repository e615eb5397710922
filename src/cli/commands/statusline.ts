import { EXIT } from '../exitCodes.js';
import { readProcessStdin, type CliIo } from '../io.js';

/** Options of `moai-session statusline`. */
export interface StatusLineCommandOptions {
  /** The state folder, when given; else as the hook finds it ($CLAUDE_PROJECT_DIR/.moai, the payload's workspace or cwd). */
  dir?: string;
}

/**
 * `moai-session statusline`: read Claude Code's status line payload on
 * standard input and print one line: the context in use against the window
 * and the threshold level, the open tasks, the session's cost. Read-only;
 * always exits 0.
 */
export async function statusLineCommand(options: StatusLineCommandOptions, io: CliIo): Promise<number> {
  const { runStatusLine } = await import('../../integrations/claude-code/statusLine.js');
  let text = '';
  try {
    text = await (io.readStdin ?? readProcessStdin)();
  } catch {
    text = '';
  }
  io.stdout(`${await runStatusLine(text, { cwd: io.cwd, env: io.env, ...(options.dir === undefined ? {} : { dir: options.dir }) })}\n`);
  return EXIT.ok;
}
