import type * as Commander from 'commander';
import { requireCommonJs } from '../util/commonJs.js';
import { TASK_EVENT_TYPES } from '../../machines/taskLifecycleNames.js';
import { RECOVERY_STRATEGIES } from '../config/configValues.js';
import { EXIT } from './exitCodes.js';
import { reportCommandError } from './reportError.js';
import type { DebugCommandOptions } from './commands/debug.js';
import type { HandoffCreateCommandOptions } from './commands/handoff.js';
import type { UsageCommandOptions } from './commands/usage.js';
import type { CliIo, GlobalOptions } from './io.js';

const EXIT_CODES_HELP = `
Exit codes:
  0   success
  1   a user error: bad input, unknown session, refused command, unreadable state folder
  2   a command-line usage error
  3   replay found a divergence between the log and the task machine
  4   the event log is corrupt (the message names file and line)
  5   busy: another process held the writer lock past the wait (retry, or raise --wait)
  70  an internal error (rerun with --debug for the stack)`;

/**
 * The arguments of a command whose session comes first and may be left out:
 * with all of them typed, the first is the session; with `required` of them,
 * the session is the current one. Fewer is a usage error naming what is missing.
 */
function sessionFirst(command: Commander.Command, typed: readonly (string | undefined)[], required: number): (string | undefined)[] {
  const given = typed.filter((value): value is string => value !== undefined);
  if (given.length < required) {
    const names = command.registeredArguments.slice(1).map((argument) => argument.name());
    command.error(`error: missing required argument '${names[given.length] ?? 'argument'}'`, { exitCode: 2, code: 'commander.missingArgument' });
  }
  return given.length > required ? given : [undefined, ...given];
}

/** This package's version, from the package.json above this module (src/ or dist/src/). */
function packageVersion(): string {
  for (let url = new URL('../../package.json', import.meta.url); ; url = new URL('../../package.json', url)) {
    try {
      const manifest = requireCommonJs(url.pathname) as { name?: string; version?: string };
      if (manifest.name === 'moai-session' && manifest.version !== undefined) return manifest.version;
    } catch {
      // not here: one folder up
    }
    if (url.pathname === '/package.json') return 'unknown';
  }
}

/** Global options that take a value: the command's name is the first word after them. */
const GLOBALS_WITH_VALUES = new Set(['--dir', '--wait']);

/** The command an argument list names (its first word that is not a global option or its value), if any. */
function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBALS_WITH_VALUES.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * Run the `moai-session` command line. Only the commands are registered here:
 * each command's module is imported when it runs, so a command loads nothing
 * it does not use (start-up is a product figure: a hook runs per agent event).
 *
 * Run the `moai-session` command line with `argv` (without `node` and the
 * script) and return the exit code. Commands write through `io`.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const { Command, CommanderError, Option } = requireCommonJs('commander') as typeof Commander;
  let exitCode: number = EXIT.ok;
  const program = new Command();
  program
    .name('moai-session')
    .description('Event-sourced session state for LLM agent workflows: tasks, tokens, checkpoints, replay.')
    .option('--dir <path>', 'the state folder', '.moai')
    .option('--json', 'print data as JSON', false)
    .option('--debug', 'show the stack of an error', false)
    .option('--wait <ms>', "how long a write waits for another writer to finish (default: the config's store.lock_wait_ms, 5000; 0: fail at once)")
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true }) // every command's --help lists --dir, --json and --debug too
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .addHelpText('after', EXIT_CODES_HELP);
  // Read from package.json only when asked: every other command starts without it.
  if (argv.includes('--version') || argv.includes('-V')) program.version(packageVersion(), '-V, --version', 'print the version');

  const globals = (command: Commander.Command): GlobalOptions => command.optsWithGlobals<GlobalOptions>();
  const run = (work: () => Promise<number>) => async () => {
    exitCode = await work();
  };

  const collect = (value: string, previous: string[]): string[] => [...previous, value];

  // Each command's definition, by name: only the one the command line names is defined (a hook or a
  // read starts faster), and all of them for help or a name that is none of them.
  const define: Record<string, () => void> = {
    demo: () => {
      program
        .command('demo')
        .description('run a two-agent workflow on the log in the state folder and print a summary; run again to resume')
        .option('--session <id>', 'the session to work in', 'demo')
        .action(function (this: Commander.Command) {
          const options = { ...globals(this), ...this.opts<{ session: string }>() };
          return run(async () => (await import('./commands/demo.js')).demoCommand(options, io))();
        });
    },
    events: () => {
      program
        .command('events')
        .description('print the log, one event a line')
        .option('--session <id>', 'only this session')
        .option('--from <n>', 'start at this position (or version, with --session)')
        .option('--follow', 'then print new events as they are appended, until interrupted (Ctrl-C)', false)
        .option('--skip-damaged', 'on a damaged log, print the sound events and say on stderr what was skipped', false)
        .action(function (this: Commander.Command) {
          const options = { ...globals(this), ...this.opts<{ session?: string; from?: string; follow: boolean; skipDamaged: boolean }>() };
          return run(async () => (await import('./commands/events.js')).eventsCommand(options, io))();
        });
    },
    sessions: () => {
      program
        .command('sessions')
        .alias('ls')
        .description('every session: status, agent, model, open tasks, context in use, cost, last activity (* marks the current one)')
        .action(function (this: Commander.Command) {
          return run(async () => (await import('./commands/sessions.js')).sessionsCommand(globals(this), io))();
        });
    },
    state: () => {
      program
        .command('state')
        .description("print a session's projected state")
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .option('--at <version>', 'as it was at this version')
        .option('--skip-damaged', 'on a damaged log, project the sound events and say on stderr what was skipped', false)
        .action(function (this: Commander.Command, sessionId: string | undefined) {
          const options = { ...globals(this), ...this.opts<{ at?: string; skipDamaged: boolean }>(), sessionId };
          return run(async () => (await import('./commands/state.js')).stateCommand(options, io))();
        });
    },
    replay: () => {
      program
        .command('replay')
        .description('rebuild every projection from the log and verify each transition against the machine (exit 3 on a divergence)')
        .option('--session <id>', 'only this session')
        .option('--until <version>', 'stop at this version (with --session)')
        .option('--write-memory-files', 'then rewrite the memory files under <dir>/sessions from the replay (takes the writer lock)', false)
        .option('--skip-damaged', 'on a damaged log, replay the sound events and say on stderr what was skipped', false)
        .action(function (this: Commander.Command) {
          const options = { ...globals(this), ...this.opts<{ session?: string; until?: string; writeMemoryFiles: boolean; skipDamaged: boolean }>() };
          return run(async () => (await import('./commands/replay.js')).replayCommand(options, io))();
        });
    },
    repair: () => {
      program
        .command('repair')
        .description('make a damaged file log open again: back up, keep every sound line, quarantine the unreadable ones, report what was lost')
        .option('--dry-run', 'say what a repair would do, change nothing', false)
        .action(function (this: Commander.Command) {
          const options = { ...globals(this), ...this.opts<{ dryRun: boolean }>() };
          return run(async () => (await import('./commands/repair.js')).repairCommand(options, io))();
        });
    },
    init: () => {
      program
        .command('init')
        .description('write the default config/config.json (never over an existing one) and its JSON Schema')
        .action(function (this: Commander.Command) {
          return run(async () => (await import('./commands/init.js')).initCommand(globals(this), io))();
        });
    },
    config: () => {
      const config = program.command('config').description('the configuration in <dir>/config/config.json');
      config
        .command('show')
        .description('print the effective configuration: the file over the defaults, then MOAI_STORE_URL')
        .action(function (this: Commander.Command) {
          return run(async () => (await import('./commands/config.js')).configShowCommand(globals(this), io))();
        });
      config
        .command('schema')
        .description('print the JSON Schema of config.json, for editors')
        .action(function (this: Commander.Command) {
          return run(async () => (await import('./commands/config.js')).configSchemaCommand(globals(this), io))();
        });
    },
    db: () => {
      const db = program.command('db').description('the PostgreSQL store: its schema');
      db.command('migrate')
        .description('create or upgrade the PostgreSQL schema (MOAI_STORE_URL, the config, or --url); --dry-run prints the SQL instead')
        .option('--url <url>', 'the database (default: MOAI_STORE_URL, then store.url in the config)')
        .option('--schema <name>', "the schema (default: the URL's ?schema=, else moai)")
        .option('--dry-run', 'print the pending migrations and their SQL, run nothing', false)
        .action(function (this: Commander.Command) {
          const options = { ...globals(this), ...this.opts<{ url?: string; schema?: string; dryRun: boolean }>() };
          return run(async () => (await import('./commands/db.js')).dbMigrateCommand(options, io))();
        });
    },
    copy: () => {
      program
        .command('copy')
        .description('copy a whole log (events and checkpoint documents) between a state folder and a PostgreSQL database, verified by checksum; run again to resume')
        .requiredOption('--from <dir|url>', 'the source: a state folder (.moai) or a postgres:// URL')
        .requiredOption('--to <dir|url>', 'the target: a state folder or a postgres:// URL, empty or an interrupted copy of the source')
        .option('--no-progress', 'no progress bar on standard error (shown on a terminal)')
        .action(function (this: Commander.Command) {
          const opts = this.opts<{ from: string; to: string; progress: boolean }>();
          // optsWithGlobals has progress: true by default; the command decides by the terminal then.
          const options: GlobalOptions & { from: string; to: string; progress?: boolean } = { ...globals(this), from: opts.from, to: opts.to };
          if (opts.progress) delete options.progress;
          else options.progress = false;
          return run(async () => (await import('./commands/copy.js')).copyCommand(options, io))();
        });
    },
    start: () => {
      program
        .command('start')
        .description('start a session')
        .requiredOption('--agent <agent>', 'the agent that starts it')
        .requiredOption('--model <model>', 'the model it runs on, e.g. claude-sonnet-4-5')
        .option('--title <title>', 'what the session is for')
        .option('--session <id>', 'its id (default: a new random id)')
        .action(function (this: Commander.Command) {
          const options = { ...globals(this), ...this.opts<{ agent: string; model: string; title?: string; session?: string }>() };
          return run(async () => (await import('./commands/start.js')).startCommand(options, io))();
        });
    },
    end: () => {
      program
        .command('end')
        .description('end a session (with a checkpoint first when auto_checkpoint is on)')
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .option('--reason <text>', 'why it ends')
        .option('--agent <agent>', 'the agent ending it')
        .action(function (this: Commander.Command, sessionId: string | undefined) {
          const options = { ...globals(this), ...this.opts<{ reason?: string; agent?: string }>(), sessionId };
          return run(async () => (await import('./commands/end.js')).endCommand(options, io))();
        });
    },
    resume: () => {
      program
        .command('resume')
        .description('resume a session from its newest valid checkpoint and the log, and print its state')
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .option('--agent <agent>', "the agent picking it up (default: the session's last agent)")
        .option('--reason <text>', 'why it is resumed')
        .action(function (this: Commander.Command, sessionId: string | undefined) {
          const options = { ...globals(this), ...this.opts<{ agent?: string; reason?: string }>(), sessionId };
          return run(async () => (await import('./commands/resume.js')).resumeCommand(options, io))();
        });
    },
    task: () => {
      const task = program.command('task').description("a session's tasks");
      task
        .command('list')
        .description("a session's tasks, in the order they were added")
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .option('--state <state>', 'only the tasks in this state')
        .action(function (this: Commander.Command, sessionId: string | undefined) {
          const options = { ...globals(this), ...this.opts<{ state?: string }>(), sessionId };
          return run(async () => (await import('./commands/sessions.js')).taskListCommand(options, io))();
        });
      task
        .command('add')
        .description('add a task, in pending')
        .usage('[options] [sessionId] <taskId>')
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .argument('[taskId]', 'the new task id')
        .requiredOption('--title <title>', 'what the task is')
        .option('--phase <phase>', 'its phase: a checkpoint is taken when the last open task of a phase completes')
        .option('--assignee <agent>', 'the agent it is for')
        .option('--agent <agent>', 'the agent adding it')
        .action(function (this: Commander.Command, first: string | undefined, second: string | undefined) {
          const [sessionId, taskId] = sessionFirst(this, [first, second], 1);
          const options = {
            ...globals(this),
            ...this.opts<{ title: string; phase?: string; assignee?: string; agent?: string }>(),
            sessionId,
            taskId: taskId!,
          };
          return run(async () => (await import('./commands/task.js')).taskAddCommand(options, io))();
        });
      task
        .command('send')
        .description(`move a task through its lifecycle: ${TASK_EVENT_TYPES.join(', ')}`)
        .usage('[options] [sessionId] <taskId> <event>')
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .argument('[taskId]', 'the task')
        .argument('[event]', 'the lifecycle event')
        .option('--reason <text>', 'why, kept in the log')
        .option('--agent <agent>', 'the agent acting')
        .action(function (this: Commander.Command, first: string | undefined, second: string | undefined, third: string | undefined) {
          const [sessionId, taskId, event] = sessionFirst(this, [first, second, third], 2);
          const options = { ...globals(this), ...this.opts<{ reason?: string; agent?: string }>(), sessionId, taskId: taskId!, event: event! };
          return run(async () => (await import('./commands/task.js')).taskSendCommand(options, io))();
        });
    },
    usage: () => {
      program
        .command('usage')
        .description("record one API call's token usage (the four counts, or the API's usage object)")
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .option('--input <n>', 'input_tokens')
        .option('--output <n>', 'output_tokens')
        .option('--cache-creation <n>', 'cache_creation_input_tokens (default 0)')
        .option('--cache-read <n>', 'cache_read_input_tokens (default 0)')
        .option('--usage-json <json>', "instead of the counts: the API's usage object, a whole Messages API response or a Claude Code transcript line; - reads standard input")
        .option('--model <model>', "the model that spent them (default: the session's)")
        .option('--sidechain', 'a subagent call: it spends without filling the main context')
        .option('--agent <agent>', 'the agent that made the call')
        .action(function (this: Commander.Command, sessionId: string | undefined) {
          const options: UsageCommandOptions = { ...globals(this), ...this.opts<Omit<UsageCommandOptions, 'sessionId'>>(), sessionId };
          return run(async () => (await import('./commands/usage.js')).usageCommand(options, io))();
        });
    },
    checkpoint: () => {
      program
        .command('checkpoint')
        .description('take a checkpoint now')
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .option('--reason <text>', 'why (default: requested)')
        .option('--agent <agent>', 'the agent taking it')
        .action(function (this: Commander.Command, sessionId: string | undefined) {
          const options = { ...globals(this), ...this.opts<{ reason?: string; agent?: string }>(), sessionId };
          return run(async () => (await import('./commands/checkpoint.js')).checkpointCommand(options, io))();
        });
    },
    context: () => {
      const context = program
        .command('context')
        .description("a session's context items (critical, supporting, temporary) and its re-injectable context");
      context
        .command('add')
        .description('record a context item in the current session (a tag it already has updates that item)')
        .argument('<text>', "the item's text (with --json-value, a JSON value)")
        .requiredOption('--tier <tier>', 'critical (always kept), supporting (kept if space allows) or temporary (dropped by a compaction or handoff)')
        .option('--kind <kind>', 'objective, constraint, preference, summary or note')
        .option('--tag <tag>', 'a name unique among the session\'s items (user_language, must_use_pytest)')
        .option('--tokens <n>', 'its size in tokens, when known')
        .option('--json-value', 'take the text as a JSON value', false)
        .option('--session <id>', 'the session (default: the current one)')
        .option('--agent <agent>', 'the agent recording it')
        .action(function (this: Commander.Command, text: string) {
          const options = { ...globals(this), ...this.opts<{ tier: string; kind?: string; tag?: string; tokens?: string; jsonValue: boolean; session?: string; agent?: string }>(), text };
          return run(async () => (await import('./commands/context.js')).contextAddCommand(options, io))();
        });
      context
        .command('list')
        .description("the session's current context items, most important first")
        .option('--tier <tier>', 'only this tier')
        .option('--at <version>', 'as the session was at this version')
        .option('--session <id>', 'the session (default: the current one)')
        .action(function (this: Commander.Command) {
          const options = { ...globals(this), ...this.opts<{ tier?: string; at?: string; session?: string }>() };
          return run(async () => (await import('./commands/context.js')).contextListCommand(options, io))();
        });
      context
        .command('drop')
        .description('drop a context item, named by its id or its tag')
        .argument('<item>', "the item's id or tag")
        .option('--reason <text>', 'why (default: requested)')
        .option('--session <id>', 'the session (default: the current one)')
        .option('--agent <agent>', 'the agent dropping it')
        .action(function (this: Commander.Command, item: string) {
          const options = { ...globals(this), ...this.opts<{ reason?: string; session?: string; agent?: string }>(), item };
          return run(async () => (await import('./commands/context.js')).contextDropCommand(options, io))();
        });
      context
        .command('show')
        .description(
          'what an agent needs after a restart, a compaction or a handoff: objectives, constraints, open tasks, budget, ' +
            'last checkpoint, last handoff, critical items; most important first, bounded',
        )
        .option('--format <format>', 'text or json', 'text')
        .option('--max-chars <n>', 'the most characters the text may have (default: 8000)')
        .option('--at <version>', 'as the session was at this version')
        .option('--session <id>', 'the session (default: the current one)')
        .action(function (this: Commander.Command) {
          const options = { ...globals(this), ...this.opts<{ format: string; maxChars?: string; at?: string; session?: string }>() };
          return run(async () => (await import('./commands/context.js')).contextShowCommand(options, io))();
        });
    },
    compact: () => {
      program
        .command('compact')
        .description('record a compaction of the context the agent did (e.g. /compact): thresholds and tasks follow')
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .requiredOption('--tokens-after <n>', 'the context in use after the compaction, in tokens')
        .option('--summary <text>', 'what the compaction kept')
        .option('--trigger <text>', 'why (default: requested)')
        .action(function (this: Commander.Command, sessionId: string | undefined) {
          const options = { ...globals(this), ...this.opts<{ tokensAfter: string; summary?: string; trigger?: string }>(), sessionId };
          return run(async () => (await import('./commands/compact.js')).compactCommand(options, io))();
        });
    },
    fork: () => {
      program
        .command('fork')
        .description('branch a session, now or at an earlier version, into a new session')
        .argument('[sessionId]', 'the session to fork: its id, a unique start of it, or none for the current session')
        .option('--at <version>', 'the version to branch at (default: the newest)')
        .option('--session <id>', "the fork's id (default: a new random id)")
        .option('--agent <agent>', "the fork's agent (default: the parent's)")
        .option('--model <model>', "the fork's model (default: the parent's)")
        .option('--title <title>', "the fork's title (default: the parent's)")
        .action(function (this: Commander.Command, sessionId: string | undefined) {
          const options = {
            ...globals(this),
            ...this.opts<{ at?: string; session?: string; agent?: string; model?: string; title?: string }>(),
            sessionId,
          };
          return run(async () => (await import('./commands/fork.js')).forkCommand(options, io))();
        });

    },
    handoff: () => {
      const handoff = program.command('handoff').description('hand a session from one agent to another');
      handoff
        .command('create')
        .description('take a checkpoint, make and validate the handoff package, record the request and print the package')
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .requiredOption('--to <agent>', 'the receiving agent')
        .requiredOption('--summary <text>', 'what has happened so far, for the receiver')
        .option('--from <agent>', "the handing agent (default: the session's agent)")
        .option('--decision <text>', 'a key decision (repeat for more)', collect, [])
        .option('--file <path>', 'a file involved (repeat for more)', collect, [])
        .option('--instructions <text>', 'what the receiver should do (default: written from the checkpoint and the current task)')
        .option('--task <taskId>', 'the task being worked on (default: the one that moved last)')
        .option('--handoff-id <id>', "the handoff's id (default: a new one)")
        .action(function (this: Commander.Command, sessionId: string | undefined) {
          const options: HandoffCreateCommandOptions = {
            ...globals(this),
            ...this.opts<Omit<HandoffCreateCommandOptions, 'sessionId'>>(),
            sessionId,
          };
          return run(async () => (await import('./commands/handoff.js')).handoffCreateCommand(options, io))();
        });
      handoff
        .command('validate')
        .description(
          "check a handoff package against its schema and the config's handoff rules (exit 1 listing every problem; " +
            'too little free context, which accept --package takes, is a note to compact, exit 0)',
        )
        .argument('<file>', 'the package, a JSON file, or - for stdin')
        .action(function (this: Commander.Command, file: string) {
          return run(async () => (await import('./commands/handoff.js')).handoffValidateCommand({ ...globals(this), file }, io))();
        });
      handoff
        .command('accept')
        .description(
          "take the session over as the handoff's receiver (exactly one receiver wins); with --package, accept a package " +
            "in the product document's shape and record what it carried (into a session the log has, only from the agent that works it)",
        )
        .usage('[options] [sessionId] <handoffId>\n       moai-session handoff accept --package <file|-> [sessionId] [options]')
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session (with --package: the one it names)')
        .argument('[handoffId]', 'the handoff')
        .option('--agent <agent>', "the receiving agent (required without --package; with it, the package's to_agent by default)")
        .option('--package <file>', 'a handoff package to accept: a JSON file, or - for stdin')
        .option('--model <model>', 'with --package: the model of a session the log does not have, when the package names none')
        .action(function (this: Commander.Command, first: string | undefined, second: string | undefined) {
          const opts = this.opts<{ agent?: string; package?: string; model?: string }>();
          if (opts.package !== undefined) {
            if (second !== undefined) this.error('error: with --package, the handoff is the package\'s: name at most the session', { exitCode: 2 });
            const options = { ...globals(this), ...opts, package: opts.package, sessionId: first };
            return run(async () => (await import('./commands/handoff.js')).handoffAcceptPackageCommand(options, io))();
          }
          if (opts.agent === undefined) this.error("error: required option '--agent <agent>' not specified", { exitCode: 2 });
          const [sessionId, handoffId] = sessionFirst(this, [first, second], 1);
          const options = { ...globals(this), ...this.opts<{ agent: string }>(), sessionId, handoffId: handoffId! };
          return run(async () => (await import('./commands/handoff.js')).handoffAcceptCommand(options, io))();
        });
      handoff
        .command('reject')
        .description('turn a handoff down; the log records why')
        .usage('[options] [sessionId] <handoffId>')
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .argument('[handoffId]', 'the handoff')
        .requiredOption('--reason <text>', 'why')
        .option('--agent <agent>', 'the agent rejecting it')
        .action(function (this: Commander.Command, first: string | undefined, second: string | undefined) {
          const [sessionId, handoffId] = sessionFirst(this, [first, second], 1);
          const options = { ...globals(this), ...this.opts<{ reason: string; agent?: string }>(), sessionId, handoffId: handoffId! };
          return run(async () => (await import('./commands/handoff.js')).handoffRejectCommand(options, io))();
        });
    },
    recover: () => {
      program
        .command('recover')
        .description('recover a session in six recorded steps and print the report; failed tasks come out recovered')
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .addOption(new Option('--strategy <strategy>', "how (default: the config's session.recovery_strategy)").choices(RECOVERY_STRATEGIES))
        .option('--agent <agent>', "the agent recovering (default: the session's)")
        .action(function (this: Commander.Command, sessionId: string | undefined) {
          const options = { ...globals(this), ...this.opts<{ strategy?: string; agent?: string }>(), sessionId };
          return run(async () => (await import('./commands/recover.js')).recoverCommand(options, io))();
        });
    },
    import: () => {
      const imports = program.command('import').description('rebuild sessions from what another tool recorded');
      imports
        .command('claude-code')
        .description(
          "rebuild sessions from Claude Code transcripts: every API call once, compactions, tasks, subagents, models, times; importing again adds nothing, a file that grew adds only what is new",
        )
        .argument('[transcripts...]', 'main transcripts (~/.claude/projects/<project>/<session>.jsonl)')
        .option('--no-subagents', 'leave out the subagent files beside each transcript (<session>/subagents/agent-*.jsonl, agent-*.jsonl)')
        .option('--all', 'every transcript under the Claude Code projects folder ($CLAUDE_CONFIG_DIR/projects, else ~/.claude/projects)', false)
        .action(function (this: Commander.Command, files: string[]) {
          const options = { ...globals(this), ...this.opts<{ subagents: boolean; all: boolean }>(), files };
          return run(async () => (await import('./commands/import.js')).importClaudeCodeCommand(options, io))();
        });
    },
    viz: () => {
      const viz = program.command('viz').description('charts of the machines and pages of sessions, written offline');
      viz
        .command('machine')
        .description("a machine's state chart, drawn from its XState definition (nested states, guards, final states)")
        .argument('[machine]', 'task (the task lifecycle), session (the session lifecycle), or the path of a module exporting a machine', 'task')
        .option('--format <format>', 'mermaid, dot, json or svg (laid out by Graphviz in WebAssembly)', 'mermaid')
        .option('--export <name>', 'the export to draw, when the module exports several machines')
        .option('-o, --output <file>', 'write it to this file (default: standard output)')
        .action(function (this: Commander.Command, machine: string) {
          const options = { ...globals(this), ...this.opts<{ format: string; export?: string; output?: string }>(), machine };
          return run(async () => (await import('./commands/viz.js')).vizMachineCommand(options, io))();
        });
      viz
        .command('session')
        .description('one self-contained HTML page to inspect a session offline: state chart, tasks, token history, timeline, events, what changed, forks')
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .option('--format <format>', 'html (the page) or json (its packed data)', 'html')
        .option('-o, --output <file>', 'write it to this file (default: <sessionId>.html here; - for standard output)')
        .option('--max-steps <n>', 'aggregate a longer session into about this many steps (rare events are kept one by one on top), and say so on the page (default 200000)')
        .option('--forks', 'also write the page of every session of its fork tree beside it (<id>.html), so every fork link opens', false)
        .action(function (this: Commander.Command, sessionId: string | undefined) {
          const options = { ...globals(this), ...this.opts<{ format: string; output?: string; maxSteps?: string; forks: boolean }>(), sessionId };
          return run(async () => (await import('./commands/viz.js')).vizSessionCommand(options, io))();
        });
    },
    inspect: () => {
      program
        .command('inspect')
        .description("serve a session's inspector page on 127.0.0.1 and follow the log live (server-sent events), until interrupted (Ctrl-C)")
        .argument('[sessionId]', 'the session: its id, a unique start of it, or none for the current session')
        .option('--port <n>', 'the port to listen on (default: any free one)')
        .option('--host <address>', 'listen on this address instead of the loopback one (warned: anyone who reaches it can read the log)')
        .option('--open', "open the page in the desktop's browser", false)
        .option('--max-steps <n>', 'aggregate a longer session into about this many steps (default 200000)')
        .action(function (this: Commander.Command, sessionId: string | undefined) {
          const options = { ...globals(this), ...this.opts<{ port?: string; host?: string; open: boolean; maxSteps?: string }>(), sessionId };
          return run(async () => (await import('./commands/inspect.js')).inspectCommand(options, io))();
        });
    },
    install: () => {
      // install and uninstall are defined together, once.
      if (program.commands.some((command) => command.name() === 'install')) return;
      for (const name of ['install', 'uninstall'] as const) {
        const command = program
          .command(`${name} <target>`)
          .description(
            name === 'install'
              ? 'merge the hooks into .claude/settings.json (target: claude-code), keeping every other key and hook'
              : "remove moai-session's hooks and status line from .claude/settings.json (target: claude-code), and nothing else",
          )
          .option('--user', 'the user settings (~/.claude/settings.json, or $CLAUDE_CONFIG_DIR)', false)
          .option('--local', 'the project settings not checked in (.claude/settings.local.json)', false)
          .option('--dry-run', 'print the diff, write nothing', false);
        if (name === 'install') {
          command
            .option('--statusline', 'also set the status line to moai-session statusline', false)
            .option('--replace-statusline', "replace another tool's status line", false)
            .option('--all-events', 'also the events newer Claude Codes have (PostCompact, StopFailure, PostModelSwitch, TaskCreated, TaskCompleted)', false);
        }
        command.action(function (this: Commander.Command, target: string) {
          const options = { ...globals(this), ...this.opts<{ user: boolean; local: boolean; dryRun: boolean }>(), target };
          return run(async () => {
            const module = await import('./commands/install.js');
            return name === 'install' ? module.installCommand(options, io) : module.uninstallCommand(options, io);
          })();
        });
      }
    },
    uninstall: () => define.install!(),
    doctor: () => {
      program
        .command('doctor')
        .description('check the Claude Code integration: installed hooks and their command, the log, the spool, the problems the hook logged (exit 1 on a problem)')
        .action(function (this: Commander.Command) {
          return run(async () => (await import('./commands/doctor.js')).doctorCommand(globals(this), io))();
        });
    },
    statusline: () => {
      program
        .command('statusline')
        .description("print Claude Code's status line for the session its payload (on standard input) names: context against the window and level, open tasks, cost")
        .action(function (this: Commander.Command) {
          const dir = this.getOptionValueSourceWithGlobals('dir') === 'default' ? undefined : globals(this).dir;
          return run(async () => (await import('./commands/statusline.js')).statusLineCommand(dir === undefined ? {} : { dir }, io))();
        });
    },
    hook: () => {
      program
        .command('hook')
        .description('read one Claude Code hook payload on standard input and record it (always exits 0; problems go to <dir>/logs/hook.log)')
        .option('--drain', 'apply the payloads waiting in the spool (left by hooks that found the writer lock busy)', false)
        .addHelpText('after', '\nWithout --dir, the state folder is $CLAUDE_PROJECT_DIR/.moai, else .moai in the payload\'s cwd. See docs/claude-code.md.')
        .action(function (this: Commander.Command) {
          const dir = this.getOptionValueSourceWithGlobals('dir') === 'default' ? undefined : globals(this).dir;
          const options = { ...(dir === undefined ? {} : { dir }), drain: this.opts<{ drain: boolean }>().drain };
          return run(async () => (await import('./commands/hook.js')).hookCommand(options, io))();
        });
    },
    debug: () => {
      program
        .command('debug')
        .description('inspection views, on the log opened read-only (give exactly one)')
        .option('--show-session-state [sessionId]', "a session's projected state, or every session")
        .option('--show-token-budget [sessionId]', 'context against the window, the threshold level and the allocation (default: the current session)')
        .option('--list-checkpoints [sessionId]', "a session's checkpoints and the state of their documents (default: the current session)")
        .option('--check-memory-sync', 'rebuild the memory files in memory and list every difference (exit 1 when they differ)')
        .option('--show-token-usage-log [sessionId]', 'the token usage records, of one session or all')
        .action(function (this: Commander.Command) {
          const options: DebugCommandOptions = { ...globals(this), ...this.opts<Omit<DebugCommandOptions, keyof GlobalOptions>>() };
          return run(async () => (await import('./commands/debug.js')).debugCommand(options, io))();
        });
    },
  };
  const typed = commandName(argv);
  const named = typed === 'ls' ? 'sessions' : typed;
  if (named !== undefined && Object.hasOwn(define, named)) define[named]!();
  else for (const definition of Object.values(define)) definition();

  const configure = (commands: readonly Commander.Command[]): void => {
    for (const command of commands) {
      command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).showHelpAfterError();
      command.addOption(new Option('--dir <path>').hideHelp());
      configure(command.commands);
    }
  };
  configure(program.commands);

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
    return reportCommandError(error, argv, io);
  }
}
