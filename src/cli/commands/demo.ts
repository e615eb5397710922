import { createEngine } from '../../engine/createEngine.js';
import type { SessionHandle } from '../../engine/sessionHandle.js';
import type { TaskEventType } from '../../../machines/taskLifecycle.js';
import { EXIT } from '../exitCodes.js';
import { formatEventLine, formatSessionView, viewToJson } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { stateFolder } from '../stateFolder.js';

/** Options of `moai-session demo`. */
export interface DemoCommandOptions extends GlobalOptions {
  /** The session the demo works in; defaults to `demo`. */
  session?: string;
}

const SPEC_AGENT = 'spec-writer';
const IMPLEMENTER = 'implementer';
const MODEL = 'claude-sonnet-4-5';

/**
 * `moai-session demo`: a two-agent workflow on the file store in the state
 * folder. A spec writer plans and specifies; an implementer builds, hits a
 * block and a failing test, recovers and finishes; the context grows with each
 * call. Each run adds one round of work; a second run resumes the session from
 * the log instead of starting over.
 */
export async function demoCommand(options: DemoCommandOptions, io: CliIo): Promise<number> {
  const dir = stateFolder(options, io);
  const sessionId = options.session ?? 'demo';
  const engine = await createEngine({ dir });
  const say = (line: string): void => {
    if (!options.json) io.stdout(`${line}\n`);
  };
  try {
    const versionBefore = await engine.store.streamVersion(`session-${sessionId}`);
    const existing = versionBefore > 0;
    let session: SessionHandle;
    if (existing) {
      session = await engine.resumeSession(sessionId, { agent: SPEC_AGENT, reason: 'demo run again' });
      say(`Resumed session ${sessionId} from the log in ${dir} at version ${versionBefore}.`);
    } else {
      session = await engine.startSession({
        sessionId,
        agent: SPEC_AGENT,
        model: MODEL,
        title: 'Build a durable key-value store',
      });
      say(`Started session ${sessionId} in ${dir}.`);
    }
    await finishInterruptedWork(session, say);
    const round = 1 + session.state.tasks.order.toArray().filter((id) => id.endsWith('-spec')).length;
    await runRound(session, round, say);
    const view = session.state;
    const added = view.version - versionBefore;

    if (options.json) {
      io.stdout(`${JSON.stringify({ resumed: existing, round, eventsAppended: added, state: viewToJson(view) }, null, 2)}\n`);
      return EXIT.ok;
    }
    io.stdout(`\n${formatSessionView(view)}\n`);
    const counts = new Map<string, number>();
    let total = 0;
    const recent: string[] = [];
    for await (const event of engine.store.readStream(view.session.stream)) {
      counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
      total++;
      if (event.version > view.version - 6) recent.push(formatEventLine(event));
    }
    io.stdout(
      [
        '',
        `Log: ${total} events in ${dir}/events (${added} added by this run)`,
        `  ${[...counts].map(([type, n]) => `${type} ${n}`).join(', ')}`,
        '  latest:',
        ...recent.map((line) => `  ${line}`),
        '',
        `Run it again to resume from the log; inspect with \`moai-session state ${sessionId}\`, \`moai-session events\` or \`moai-session replay\`.`,
        '',
      ].join('\n'),
    );
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

/** The event that moves a task from each state towards `completed`. */
const TOWARDS_DONE: Partial<Record<string, TaskEventType>> = {
  pending: 'START',
  in_progress: 'COMPLETE',
  blocked: 'UNBLOCK',
  token_warning: 'BUDGET_OK',
  context_switch: 'SWITCH_DONE',
  failed: 'RECOVER',
  recovered: 'RESUME',
};

/**
 * A run that was stopped part-way (a crash, Ctrl-C) left tasks open in the
 * log. Finish them first, from whatever state the log says they are in.
 */
async function finishInterruptedWork(session: SessionHandle, say: (line: string) => void): Promise<void> {
  const open = session.state.tasks.order.toArray().map((id) => session.task(id)!).filter((task) => task.state !== 'completed');
  if (open.length === 0) return;
  say(`The last run stopped part-way: finishing ${open.map((t) => `${t.taskId} (${t.state})`).join(', ')}`);
  for (const task of open) {
    const agent = task.assignee ?? session.state.session.agent;
    for (let event = TOWARDS_DONE[task.state]; event !== undefined; event = TOWARDS_DONE[session.task(task.taskId)!.state]) {
      const moved = await session.sendTask(task.taskId, event, { agent, reason: 'finishing interrupted work' });
      say(`  ${agent.padEnd(12)} ${task.taskId.padEnd(10)} ${event.padEnd(8)} -> ${moved.state}`);
    }
  }
}

/** One round of the two-agent workflow: four tasks through their lifecycles. */
async function runRound(session: SessionHandle, round: number, say: (line: string) => void): Promise<void> {
  const id = (name: string): string => `r${round}-${name}`;
  let context = session.state.tokens.contextTokens;
  const call = async (agent: string, grow: number, output: number): Promise<void> => {
    // Each call reads the cached prefix and writes what it added to the cache.
    await session.recordUsage(
      { input_tokens: 1_200, output_tokens: output, cache_read_input_tokens: context, cache_creation_input_tokens: grow },
      { agent },
    );
    context += 1_200 + grow;
  };
  const move = async (taskId: string, event: TaskEventType, agent: string, reason?: string): Promise<void> => {
    const task = await session.sendTask(taskId, event, reason === undefined ? { agent } : { agent, reason });
    say(`  ${agent.padEnd(12)} ${taskId.padEnd(10)} ${event.padEnd(8)} -> ${task.state}${reason ? `  (${reason})` : ''}`);
  };

  say(`Round ${round}: ${SPEC_AGENT} plans, ${IMPLEMENTER} builds`);
  await session.addTask({ taskId: id('spec'), title: 'Specify the storage API', phase: 'spec', assignee: SPEC_AGENT }, { agent: SPEC_AGENT });
  await session.addTask({ taskId: id('impl'), title: 'Implement the log-structured store', phase: 'build', assignee: IMPLEMENTER }, { agent: SPEC_AGENT });
  await session.addTask({ taskId: id('tests'), title: 'Write crash-recovery tests', phase: 'build', assignee: IMPLEMENTER }, { agent: SPEC_AGENT });
  await session.addTask({ taskId: id('docs'), title: 'Document the file format', phase: 'docs', assignee: SPEC_AGENT }, { agent: SPEC_AGENT });

  await move(id('spec'), 'START', SPEC_AGENT);
  await call(SPEC_AGENT, 9_000, 2_400);
  await move(id('spec'), 'COMPLETE', SPEC_AGENT);

  await move(id('impl'), 'START', IMPLEMENTER);
  await call(IMPLEMENTER, 14_000, 3_100);
  await move(id('impl'), 'BLOCK', IMPLEMENTER, 'needs the fsync policy decided in the spec');
  await move(id('impl'), 'UNBLOCK', SPEC_AGENT, 'policy: group commit');
  await call(IMPLEMENTER, 18_000, 4_200);

  await move(id('tests'), 'START', IMPLEMENTER);
  await call(IMPLEMENTER, 11_000, 2_000);
  await move(id('tests'), 'FAIL', IMPLEMENTER, 'torn-write test found a missing truncate');
  await move(id('tests'), 'RECOVER', IMPLEMENTER, 'truncate the torn tail on open');
  await move(id('tests'), 'RESUME', IMPLEMENTER);
  await call(IMPLEMENTER, 8_000, 1_500);
  await move(id('tests'), 'COMPLETE', IMPLEMENTER);
  await move(id('impl'), 'COMPLETE', IMPLEMENTER);

  await move(id('docs'), 'START', SPEC_AGENT);
  await call(SPEC_AGENT, 6_000, 2_800);
  await move(id('docs'), 'COMPLETE', SPEC_AGENT);
}
