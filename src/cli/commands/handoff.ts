import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadConfig } from '../../config/loadConfig.js';
import { windowOf } from '../../engine/decideBudget.js';
import type { SessionHandle } from '../../engine/sessionHandle.js';
import { CommandRejectedError, StorageError } from '../../errors.js';
import { buildHandoffPackage } from '../../handoff/buildHandoffPackage.js';
import { HandoffValidationError } from '../../handoff/handoffValidationError.js';
import { parseHandoffPackageText } from '../../handoff/parseHandoffPackageText.js';
import { handoffRulesFromConfig, validateHandoffPackage } from '../../handoff/validateHandoffPackage.js';
import type { EngineSettings } from '../../engine/settings.js';
import { EXIT } from '../exitCodes.js';
import { tokens } from '../format.js';
import { readProcessStdin, type CliIo, type GlobalOptions } from '../io.js';
import { printWrite } from '../output.js';
import { sessionOf, stateFolder, withEngine } from '../stateFolder.js';

/** Options of `moai-session handoff create`. */
export interface HandoffCreateCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  /** The receiving agent. */
  to: string;
  /** The handing agent; defaults to the session's agent. */
  from?: string;
  summary: string;
  decision?: string[];
  file?: string[];
  instructions?: string;
  /** The task being worked on; defaults to the one that moved last. */
  task?: string;
  /** The handoff's id; defaults to a new one. */
  handoffId?: string;
}

/**
 * Check the package the session would hand off now, before anything is
 * appended: the engine takes a checkpoint before it validates, and a refused
 * handoff should leave the log as it was. The checkpoint id is a stand-in; it
 * changes nothing the rules look at.
 */
function precheck(session: SessionHandle, settings: EngineSettings, options: HandoffCreateCommandOptions, handoffId: string): void {
  const view = session.state;
  const s = view.session;
  if (s.status !== 'active') {
    const why =
      s.status === 'handing_off' && s.pendingHandoff !== undefined
        ? `: handoff ${s.pendingHandoff.handoffId} waits for ${s.pendingHandoff.toAgent}; accept or reject it first`
        : '';
    throw new CommandRejectedError(`Session ${session.sessionId} is ${s.status} and cannot hand off${why}.`);
  }
  const contextWindow = windowOf(s.model, settings.budget);
  if (contextWindow === undefined) return; // the engine says what to do about an unknown model
  const draft = buildHandoffPackage(view, {
    handoffId,
    fromAgent: options.from ?? s.agent,
    toAgent: options.to,
    createdAt: new Date(),
    summary: options.summary,
    checkpointId: 'checkpoint-to-be-taken',
    contextWindow,
    keyDecisions: options.decision ?? [],
    ...(options.file === undefined ? {} : { files: options.file }),
    ...(options.instructions === undefined ? {} : { instructions: options.instructions }),
    ...(options.task === undefined ? {} : { currentTaskId: options.task }),
  });
  const validation = validateHandoffPackage(draft, settings.handoff);
  if (!validation.ok) {
    throw new HandoffValidationError(validation.problems, {
      needsCompaction: validation.needsCompaction,
      // A generated id means nothing to the user yet.
      ...(options.handoffId === undefined ? {} : { handoffId }),
    });
  }
}

/**
 * `moai-session handoff create <sessionId> --to AGENT --summary TEXT`: take a
 * checkpoint, make and validate the handoff package, record `HandoffRequested`
 * and print the package. A package with problems exits 1 naming every one,
 * and nothing is appended.
 */
export async function handoffCreateCommand(options: HandoffCreateCommandOptions, io: CliIo): Promise<number> {
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const session = await run.engine.openSession(sessionId);
      const handoffId = options.handoffId ?? `handoff-${randomUUID()}`;
      precheck(session, run.engine.settings, options, handoffId);
      const handoff = await session.requestHandoff({
        handoffId,
        toAgent: options.to,
        summary: options.summary,
        keyDecisions: options.decision ?? [],
        ...(options.from === undefined ? {} : { fromAgent: options.from }),
        ...(options.file === undefined ? {} : { files: options.file }),
        ...(options.instructions === undefined ? {} : { instructions: options.instructions }),
        ...(options.task === undefined ? {} : { currentTaskId: options.task }),
      });
      if (options.json) {
        io.stdout(`${JSON.stringify(handoff, null, 2)}\n`);
        return EXIT.ok;
      }
      printWrite(
        options,
        io,
        run,
        [
          `Handoff ${handoff.handoff_id} requested in session ${sessionId}: ${handoff.from_agent} -> ${handoff.to_agent} ` +
            `(checkpoint ${handoff.recovery_info.checkpoint_id ?? 'none'}, ${tokens(handoff.session_context.tokens_available)} tokens free).`,
          `${handoff.to_agent} takes it with \`moai-session handoff accept ${sessionId} ${handoff.handoff_id} --agent ${handoff.to_agent}\`.`,
          '',
          JSON.stringify(handoff, null, 2),
          '',
        ],
        {},
      );
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}

/** Options of `moai-session handoff validate`. */
export interface HandoffValidateCommandOptions extends GlobalOptions {
  /** A package file, or `-` for stdin. */
  file: string;
}

/** What `handoff validate` and `handoff accept --package` say of a package with too little free context. */
const COMPACT_SOON = 'The package says too little context is free: compact the session soon (`moai-session compact`).';

/**
 * `moai-session handoff validate <file|->`: check a handoff package against
 * its schema and the handoff rules of the state folder's config. Exit 0 when
 * `handoff accept --package` would take it (one with too little free context
 * too, with the note to compact that accepting prints); exit 1 listing every
 * problem.
 */
export async function handoffValidateCommand(options: HandoffValidateCommandOptions, io: CliIo): Promise<number> {
  const { value, name } = await readPackage(options.file, io);
  const { config } = await loadConfig({ dir: stateFolder(options, io), env: io.env });
  const result = validateHandoffPackage(value, handoffRulesFromConfig(config));
  const handoffId =
    typeof value === 'object' && value !== null && typeof (value as { handoff_id?: unknown }).handoff_id === 'string'
      ? (value as { handoff_id: string }).handoff_id
      : undefined;
  const subject = handoffId === undefined ? `The handoff package in ${name}` : `Handoff ${handoffId} (${name})`;
  if (options.json) {
    io.stdout(`${JSON.stringify({ file: name, ...result }, null, 2)}\n`);
  } else if (result.acceptable) {
    io.stdout(
      [
        `${subject} is valid.`,
        ...result.derived.map((note) => `  note: ${note}.`),
        ...(result.needsCompaction ? [COMPACT_SOON] : []),
        '',
      ].join('\n'),
    );
  } else {
    io.stdout(
      [
        `${subject} has ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}:`,
        ...result.problems.map((problem) => `  - ${problem.message}`),
        ...(result.needsCompaction ? ['Compact the context of the session, then make the package again.'] : []),
        '',
      ].join('\n'),
    );
  }
  if (result.acceptable) return EXIT.ok;
  io.stderr(
    `moai-session: ${subject} is not valid (${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}: ` +
      `${result.problems.map((p) => p.path || 'package').join(', ')}).\n`,
  );
  return EXIT.userError;
}

/** Read a package file or standard input (`-`) and parse it; `name` is what messages call it. */
async function readPackage(file: string, io: CliIo): Promise<{ value: unknown; name: string }> {
  const fromStdin = file === '-';
  const name = fromStdin ? 'stdin' : file;
  let text: string;
  try {
    text = fromStdin ? await (io.readStdin ?? readProcessStdin)() : await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    throw new StorageError(`Cannot read the handoff package ${name}: ${(error as Error).message}.`, { cause: error });
  }
  return { value: parseHandoffPackageText(text, name), name };
}

/** Options of `moai-session handoff accept --package`. */
export interface HandoffAcceptPackageCommandOptions extends GlobalOptions {
  /** The package: a JSON file, or `-` for stdin. */
  package: string;
  /** The session to accept it into (its id or a unique start of it); defaults to the package's `session_context.session_id`. */
  sessionId: string | undefined;
  /** The receiving agent; defaults to the package's `to_agent`. */
  agent?: string;
  /** The model of a session the log does not have, when the package names none. */
  model?: string;
}

/**
 * `moai-session handoff accept --package <file|->`: accept a package in the
 * product document's shape, made by an agent that may never have seen this
 * engine: validated, the session it names taken over by its `to_agent`
 * (started when the log has none), and what it carried recorded as context
 * items. A package with problems exits 1 naming every one, and nothing is
 * appended; so does one for a session the log has whose `from_agent` does not
 * work it now, or that waits for another handoff.
 */
export async function handoffAcceptPackageCommand(options: HandoffAcceptPackageCommandOptions, io: CliIo): Promise<number> {
  const { value, name } = await readPackage(options.package, io);
  return withEngine(options, io, async (run) => {
    const { acceptHandoffPackage } = await import('../../engine/acceptHandoffPackage.js');
    const sessionId = options.sessionId === undefined ? undefined : await sessionOf(run, options.sessionId);
    const accepted = await acceptHandoffPackage(run.engine, value, {
      ...(sessionId === undefined ? {} : { sessionId }),
      ...(options.agent === undefined ? {} : { agent: options.agent }),
      ...(options.model === undefined ? {} : { model: options.model }),
    });
    const session = accepted.session.state.session;
    const lines = [
      `${session.agent} accepted handoff ${accepted.handoffId} (${name}) and now works session ${session.sessionId}` +
        `${accepted.started ? ', started for it' : ''} (version ${accepted.session.state.version}).`,
    ];
    if (accepted.carriedTags.length > 0) lines.push(`Recorded what it carried as context items: ${accepted.carriedTags.join(', ')}.`);
    for (const note of accepted.derived) lines.push(`Note: ${note}.`);
    if (accepted.needsCompaction) lines.push(COMPACT_SOON);
    printWrite(options, io, run, lines, {
      sessionId: session.sessionId,
      handoffId: accepted.handoffId,
      agent: session.agent,
      started: accepted.started,
      carriedTags: accepted.carriedTags,
      derived: accepted.derived,
      needsCompaction: accepted.needsCompaction,
      version: accepted.session.state.version,
    });
    return EXIT.ok;
  });
}

/** Options of `moai-session handoff accept`. */
export interface HandoffAcceptCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  handoffId: string;
  /** The receiving agent, as the package names it. */
  agent: string;
}

/** `moai-session handoff accept <sessionId> <handoffId> --agent A`: take the session over; only one receiver ever wins. */
export async function handoffAcceptCommand(options: HandoffAcceptCommandOptions, io: CliIo): Promise<number> {
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const session = await run.engine.openSession(sessionId);
      await session.acceptHandoff(options.handoffId, options.agent);
      printWrite(
        options,
        io,
        run,
        `${options.agent} accepted handoff ${options.handoffId} and now works session ${sessionId} (version ${session.state.version}).`,
        { sessionId: sessionId, handoffId: options.handoffId, agent: options.agent, version: session.state.version },
      );
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}

/** Options of `moai-session handoff reject`. */
export interface HandoffRejectCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  handoffId: string;
  reason: string;
  agent?: string;
}

/** `moai-session handoff reject <sessionId> <handoffId> --reason R`: turn a handoff down; the log records why. */
export async function handoffRejectCommand(options: HandoffRejectCommandOptions, io: CliIo): Promise<number> {
  return withEngine(
    options,
    io,
    async (run) => {
      const sessionId = await sessionOf(run, options.sessionId);
      const session = await run.engine.openSession(sessionId);
      await session.rejectHandoff(options.handoffId, options.reason, options.agent);
      printWrite(
        options,
        io,
        run,
        `Handoff ${options.handoffId} of session ${sessionId} rejected${options.agent === undefined ? '' : ` by ${options.agent}`}: ` +
          `${options.reason}. The session stays with ${session.state.session.agent}.`,
        { sessionId: sessionId, handoffId: options.handoffId, reason: options.reason, version: session.state.version },
      );
      return EXIT.ok;
    },
    { requireExisting: true },
  );
}
