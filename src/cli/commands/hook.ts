import { EXIT } from '../exitCodes.js';
import { readProcessStdin, type CliIo } from '../io.js';

/** Options of `moai-session hook`. */
export interface HookCommandOptions {
  /** The state folder, when given (`--dir`); else `$CLAUDE_PROJECT_DIR/.moai`, else the payload's `cwd`. */
  dir?: string;
  /** Apply what waits in the spool, without a payload. */
  drain?: boolean;
}

/**
 * `moai-session hook`: read one Claude Code hook payload on standard input
 * and record what it means (see docs/claude-code.md). Always exits 0 and
 * prints nothing but Claude Code's JSON (the SessionStart context): its own
 * problems go to `<dir>/logs/hook.log`. With `--drain`, it applies the spool
 * and says how many payloads it applied (exit 5 when the lock stayed busy).
 */
export async function hookCommand(options: HookCommandOptions, io: CliIo): Promise<number> {
  const { runHook } = await import('../../integrations/claude-code/runHook.js');
  const base = { cwd: io.cwd, env: io.env, ...(options.dir === undefined ? {} : { dir: options.dir }) };
  if (options.drain === true) {
    const result = await runHook('', { ...base, drain: true });
    const { listSpool } = await import('../../integrations/claude-code/hookSpool.js');
    const waiting = listSpool(result.dir).length;
    io.stdout(`Applied ${result.applied} spooled payload${result.applied === 1 ? '' : 's'}; ${waiting} waiting.\n`);
    return result.spooled ? EXIT.busy : EXIT.ok;
  }
  let text = '';
  try {
    text = await (io.readStdin ?? readProcessStdin)();
  } catch {
    text = '';
  }
  const result = await runHook(text, base);
  if (result.stdout !== '') io.stdout(result.stdout);
  return EXIT.ok;
}

/** The hook's own argument reading, for the fast path that loads no command-line parser: `[--dir <path>] [--drain]`. */
export function hookArguments(argv: readonly string[]): HookCommandOptions | undefined {
  const options: HookCommandOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--drain') options.drain = true;
    else if (arg === '--dir' && argv[i + 1] !== undefined) options.dir = argv[++i]!;
    else if (arg.startsWith('--dir=')) options.dir = arg.slice(6);
    else return undefined; // anything else (--help): the full parser
  }
  return options;
}
