import { Command, CommanderError, Option } from 'commander';
import { isMoaiError } from '../errors.js';
import { demoCommand } from './commands/demo.js';
import { eventsCommand } from './commands/events.js';
import { replayCommand } from './commands/replay.js';
import { stateCommand } from './commands/state.js';
import { EXIT, exitCodeFor } from './exitCodes.js';
import type { CliIo, GlobalOptions } from './io.js';

const EXIT_CODES_HELP = `
Exit codes:
  0   success
  1   a user error: bad input, unknown session, refused command, locked or unreadable state folder
  2   a command-line usage error
  3   replay found a divergence between the log and the task machine
  4   the event log is corrupt (the message names file and line)
  70  an internal error (rerun with --debug for the stack)`;

/**
 * Run the `moai-session` command line with `argv` (without `node` and the
 * script) and return the exit code. Commands write through `io`.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command();
  program
    .name('moai-session')
    .description('Event-sourced session state for LLM agent workflows: tasks, tokens, checkpoints, replay.')
    .option('--dir <path>', 'the state folder', '.moai')
    .option('--json', 'print data as JSON', false)
    .option('--debug', 'show the stack of an error', false)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .addHelpText('after', EXIT_CODES_HELP);

  const globals = (command: Command): GlobalOptions => command.optsWithGlobals<GlobalOptions>();
  const run = (work: () => Promise<number>) => async () => {
    exitCode = await work();
  };

  program
    .command('demo')
    .description('run a two-agent workflow on the log in the state folder and print a summary; run again to resume')
    .option('--session <id>', 'the session to work in', 'demo')
    .action(function (this: Command) {
      const options = { ...globals(this), ...this.opts<{ session: string }>() };
      return run(() => demoCommand(options, io))();
    });

  program
    .command('events')
    .description('print the log, one event a line')
    .option('--session <id>', 'only this session')
    .option('--from <n>', 'start at this position (or version, with --session)')
    .action(function (this: Command) {
      const options = { ...globals(this), ...this.opts<{ session?: string; from?: string }>() };
      return run(() => eventsCommand(options, io))();
    });

  program
    .command('state')
    .description("print a session's projected state")
    .argument('<sessionId>', 'the session')
    .option('--at <version>', 'as it was at this version')
    .action(function (this: Command, sessionId: string) {
      const options = { ...globals(this), ...this.opts<{ at?: string }>(), sessionId };
      return run(() => stateCommand(options, io))();
    });

  program
    .command('replay')
    .description('rebuild every projection from the log and verify each transition against the machine (exit 3 on a divergence)')
    .option('--session <id>', 'only this session')
    .option('--until <version>', 'stop at this version (with --session)')
    .action(function (this: Command) {
      const options = { ...globals(this), ...this.opts<{ session?: string; until?: string }>() };
      return run(() => replayCommand(options, io))();
    });

  for (const command of program.commands) {
    command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).showHelpAfterError();
    command.addOption(new Option('--dir <path>').hideHelp());
  }

  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const debug = argv.includes('--debug');
    if (isMoaiError(error)) {
      io.stderr(`moai-session: ${error.message}\n`);
      if (debug && error.stack) io.stderr(`${error.stack}\n`);
    } else {
      io.stderr(`moai-session: internal error: ${(error as Error)?.message ?? String(error)}\n`);
      io.stderr(debug ? `${(error as Error)?.stack ?? ''}\n` : 'Rerun with --debug for the stack, and report it.\n');
    }
    return exitCodeFor(error);
  }
}
