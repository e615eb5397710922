import { sessionViewToJson } from '../../projections/sessionView.js';
import { windowOf } from '../../engine/decideBudget.js';
import type { Engine } from '../../engine/createEngine.js';
import type { Summariser } from '../../engine/commandRunner.js';
import type { SessionHandle } from '../../engine/sessionHandle.js';
import type { StoredEvent } from '../../events/envelope.js';
import { isCommandRejectedError } from '../../errors.js';
import type { TaskEventType } from '../../../machines/taskLifecycle.js';
import { EXIT } from '../exitCodes.js';
import { formatEventLine, formatSessionView, tokens } from '../format.js';
import type { CliIo, GlobalOptions } from '../io.js';
import { withEngine, type EngineRun } from '../stateFolder.js';
import { plural } from '../../util/plural.js';

/** Options of `moai-session demo`. */
export interface DemoCommandOptions extends GlobalOptions {
  /** The session the demo works in; defaults to `demo`. */
  session?: string;
}

const SPEC_AGENT = 'spec-writer';
const IMPLEMENTER = 'implementer';
const MODEL = 'claude-sonnet-4-5';

/** The share of the context a compaction keeps in the demo. */
const KEEP_SHARE = 0.3;

/**
 * The demo's summariser: deterministic, it keeps 30% of the context (a real
 * one would ask a model to summarise the conversation).
 */
const keepThirtyPercent: Summariser = ({ contextTokens, trigger }) =>
  Promise.resolve({
    tokensAfter: Math.round(contextTokens * KEEP_SHARE),
    summary: `kept the decisions, the open tasks and the latest test output (${Math.round(KEEP_SHARE * 100)}% of ${contextTokens} tokens; ${trigger})`,
  });

type Say = (line: string) => void;

/** What the steps after the round did, for --json. */
interface DemoSteps {
  budget: { levels: string[]; checkpoints: string[]; compaction: { tokensBefore: number; tokensAfter: number } | null } | null;
  handoff: { handoffId: string; from: string; to: string; checkpointId: string | null } | null;
  fork: { sessionId: string; parentVersion: number } | { skipped: string };
  recovery: { recoveryId: string; checkpointId: string | null; recoveredTasks: string[] };
}

/**
 * `moai-session demo`: a two-agent workflow on the file store in the state
 * folder. A spec writer plans and specifies; an implementer builds, hits a
 * block and a failing test, recovers and finishes; the context grows with each
 * call. Then the session's capabilities, one after another: a review pushes the
 * context past the warning threshold (its task goes to token_warning and a
 * checkpoint is taken) and past the emergency one (a compaction), the spec
 * writer hands the session to the implementer, a fork tries an alternative and
 * is ended, and a failed review is recovered. Each run adds one round; a
 * second run resumes the session from the log instead of starting over.
 */
export async function demoCommand(options: DemoCommandOptions, io: CliIo): Promise<number> {
  const sessionId = options.session ?? 'demo';
  const say: Say = (line) => {
    if (!options.json) io.stdout(`${line}\n`);
  };
  return withEngine(
    options,
    io,
    async (run) => {
      const { engine, dir } = run;
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
      await contextStep(run, session, say);
      const round = 1 + session.state.tasks.order.toArray().filter((id) => id.endsWith('-spec')).length;
      await runRound(session, round, say);
      const steps = {} as DemoSteps;
      steps.budget = await budgetStep(run, session, round, say);
      steps.handoff = await handoffStep(session, round, say);
      steps.fork = await forkStep(engine, session, round, say);
      const recovered = await recoveryStep(run, session, round, say);
      session = recovered.session;
      steps.recovery = recovered.step;

      const view = session.state;
      const added = view.version - versionBefore;
      const tiers = ['critical', 'supporting', 'temporary'].map((tier) => plural(session.contextItems().filter((item) => item.tier === tier).length, `${tier} item`));
      say(`Context: ${tiers.join(', ')} after the compaction and the handoff (\`moai-session context show ${sessionId}\` prints what an agent re-reads)`);
      if (options.json) {
        io.stdout(
          `${JSON.stringify({ resumed: existing, round, eventsAppended: added, steps, state: sessionViewToJson(view) }, null, 2)}\n`,
        );
        return EXIT.ok;
      }
      io.stdout(`\n${formatSessionView(view, run.engine.settings.budget, run.engine.settings.prices)}\n`);
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
          `Log: ${total} events of session ${sessionId} in ${dir}/events (${added} added by this run)`,
          `  ${[...counts].map(([type, n]) => `${type} ${n}`).join(', ')}`,
          '  latest:',
          ...recent.map((line) => `  ${line}`),
          '',
          `Run it again to resume from the log; inspect with \`moai-session state ${sessionId}\`, \`moai-session events\`, ` +
            `\`moai-session debug --show-token-budget ${sessionId}\` or \`moai-session replay\`.`,
          '',
        ].join('\n'),
      );
      return EXIT.ok;
    },
    { engine: { summariser: keepThirtyPercent } },
  );
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
 * A run that was stopped part-way (a crash, Ctrl-C) left a handoff waiting or
 * tasks open in the log. Finish them first, from whatever state the log says
 * they are in.
 */
async function finishInterruptedWork(session: SessionHandle, say: Say): Promise<void> {
  const pending = session.state.session.pendingHandoff;
  if (pending !== undefined) {
    say(`The last run stopped part-way: ${pending.toAgent} takes the waiting handoff ${pending.handoffId}`);
    await session.acceptHandoff(pending.handoffId, pending.toAgent);
  }
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

/**
 * What must survive every compaction, handoff and restart: the objective and
 * a constraint, as critical context items (recorded once: the same again
 * records nothing).
 */
async function contextStep(run: EngineRun, session: SessionHandle, say: Say): Promise<void> {
  const mark = run.appended.length;
  await session.recordContext({ tier: 'critical', kind: 'objective', tag: 'goal', text: 'A key-value store that loses no acknowledged write', source: 'demo' }, SPEC_AGENT);
  await session.recordContext({ tier: 'critical', kind: 'constraint', tag: 'fsync', text: "Acknowledge a write only once it is fsync'd", source: 'demo' }, SPEC_AGENT);
  if (run.appended.length > mark) {
    say('Context: what must survive compactions, handoffs and restarts');
    narrate(run.appended.slice(mark), say);
  }
}

/** Send a task event and print the line. */
async function move(session: SessionHandle, say: Say, taskId: string, event: TaskEventType, agent: string, reason?: string): Promise<void> {
  const task = await session.sendTask(taskId, event, reason === undefined ? { agent } : { agent, reason });
  say(`  ${agent.padEnd(12)} ${taskId.padEnd(10)} ${event.padEnd(8)} -> ${task.state}${reason ? `  (${reason})` : ''}`);
}

/**
 * One model call: it reads the cached context, writes what it added to the
 * cache, and so leaves `input + grow` more tokens in the context.
 */
async function call(session: SessionHandle, agent: string, grow: number, output: number): Promise<void> {
  await session.recordUsage(
    {
      input_tokens: 1_200,
      output_tokens: output,
      cache_read_input_tokens: session.state.tokens.contextTokens,
      cache_creation_input_tokens: grow,
    },
    { agent },
  );
}

/** One round of the two-agent workflow: four tasks through their lifecycles. */
async function runRound(session: SessionHandle, round: number, say: Say): Promise<void> {
  const id = (name: string): string => `r${round}-${name}`;
  const step = (taskId: string, event: TaskEventType, agent: string, reason?: string) => move(session, say, taskId, event, agent, reason);

  say(`Round ${round}: ${SPEC_AGENT} plans, ${IMPLEMENTER} builds`);
  await session.addTask({ taskId: id('spec'), title: 'Specify the storage API', phase: 'spec', assignee: SPEC_AGENT }, { agent: SPEC_AGENT });
  await session.addTask({ taskId: id('impl'), title: 'Implement the log-structured store', phase: 'build', assignee: IMPLEMENTER }, { agent: SPEC_AGENT });
  await session.addTask({ taskId: id('tests'), title: 'Write crash-recovery tests', phase: 'build', assignee: IMPLEMENTER }, { agent: SPEC_AGENT });
  await session.addTask({ taskId: id('docs'), title: 'Document the file format', phase: 'docs', assignee: SPEC_AGENT }, { agent: SPEC_AGENT });

  await step(id('spec'), 'START', SPEC_AGENT);
  await call(session, SPEC_AGENT, 9_000, 2_400);
  await step(id('spec'), 'COMPLETE', SPEC_AGENT);

  await step(id('impl'), 'START', IMPLEMENTER);
  await call(session, IMPLEMENTER, 14_000, 3_100);
  await step(id('impl'), 'BLOCK', IMPLEMENTER, 'needs the fsync policy decided in the spec');
  await step(id('impl'), 'UNBLOCK', SPEC_AGENT, 'policy: group commit');
  await call(session, IMPLEMENTER, 18_000, 4_200);

  await step(id('tests'), 'START', IMPLEMENTER);
  await call(session, IMPLEMENTER, 11_000, 2_000);
  await step(id('tests'), 'FAIL', IMPLEMENTER, 'torn-write test found a missing truncate');
  await step(id('tests'), 'RECOVER', IMPLEMENTER, 'truncate the torn tail on open');
  await step(id('tests'), 'RESUME', IMPLEMENTER);
  await call(session, IMPLEMENTER, 8_000, 1_500);
  await step(id('tests'), 'COMPLETE', IMPLEMENTER);
  await step(id('impl'), 'COMPLETE', IMPLEMENTER);

  await step(id('docs'), 'START', SPEC_AGENT);
  await call(session, SPEC_AGENT, 6_000, 2_800);
  await step(id('docs'), 'COMPLETE', SPEC_AGENT);
}

/** A line for each event the budget policies appended: crossings, tasks moved, checkpoints, compactions. */
function narrate(events: readonly StoredEvent[], say: Say): void {
  for (const event of events) {
    switch (event.type) {
      case 'BudgetThresholdCrossed':
        say(`  budget       crossed ${event.data.level} at ${event.data.percent.toFixed(1)}% (${tokens(event.data.contextTokens)} of ${tokens(event.data.contextWindow)} tokens)`);
        break;
      case 'BudgetThresholdCleared':
        say(`  budget       ${event.data.level} cleared at ${event.data.percent.toFixed(1)}%`);
        break;
      case 'TaskTransitioned':
        say(`  policy       ${event.data.taskId} ${event.data.event} -> ${event.data.to}${event.data.reason ? `  (${event.data.reason})` : ''}`);
        break;
      case 'CheckpointCreated':
        say(`  checkpoint   ${event.data.checkpointId} (${event.data.reason}) at v${event.data.version}`);
        break;
      case 'ContextCompacted':
        say(`  compaction   ${tokens(event.data.tokensBefore)} -> ${tokens(event.data.tokensAfter ?? 0)} tokens by the summariser`);
        break;
      case 'ContextItemRecorded':
        say(
          event.data.tag === 'compaction-summary'
            ? '  context      the compaction\'s summary is kept as a supporting item (compaction-summary)'
            : `  context      ${event.data.tier} ${event.data.kind ?? 'item'} ${event.data.tag ?? event.data.itemId}: ${event.data.text ?? JSON.stringify(event.data.value)}`,
        );
        break;
      case 'ContextItemUpdated':
        if (event.data.reason?.startsWith('compaction') === true) say('  context      the supporting item compaction-summary now holds this compaction\'s summary');
        break;
      case 'ContextItemDropped':
        say(
          `  context      dropped ${event.data.itemId}` +
            (event.data.reason?.startsWith('compaction') === true ? ' with the compaction: it was temporary' : event.data.reason === undefined ? '' : ` (${event.data.reason})`),
        );
        break;
      default:
        break;
    }
  }
}

/**
 * The review reads large benchmark traces: the context passes the warning
 * threshold (the review goes to token_warning, a checkpoint is taken), then
 * the emergency one (a checkpoint, and the summariser compacts the context,
 * which clears the thresholds and lets the review go on).
 */
async function budgetStep(run: EngineRun, session: SessionHandle, round: number, say: Say): Promise<DemoSteps['budget']> {
  const window = windowOf(session.state.session.model, run.engine.settings.budget);
  if (window === undefined) return null;
  const { warning, emergency } = run.engine.settings.budget.thresholds;
  const review = `r${round}-review`;
  say(`Budget: ${IMPLEMENTER} reviews the store against large benchmark traces`);
  await session.addTask({ taskId: review, title: 'Review the store under load', phase: 'review', assignee: IMPLEMENTER }, { agent: SPEC_AGENT });
  await move(session, say, review, 'START', IMPLEMENTER);
  const mark = run.appended.length;
  // The traces are temporary context: the compaction drops them.
  await session.recordContext(
    { itemId: `r${round}-traces`, tier: 'temporary', kind: 'note', text: `raw benchmark traces of round ${round}`, source: 'demo' },
    IMPLEMENTER,
  );
  say(`  context      temporary note r${round}-traces: raw benchmark traces of round ${round}`);
  // Grow the context to just past each threshold in turn.
  for (const percent of [warning + 5, Math.min(emergency + 3, 100)]) {
    const target = Math.ceil((window * percent) / 100);
    const narrated = run.appended.length;
    await call(session, IMPLEMENTER, Math.max(0, target - 1_200 - session.state.tokens.contextTokens), 1_800);
    say(`  ${IMPLEMENTER.padEnd(12)} reads traces: context ${tokens(target)} of ${tokens(window)} tokens`);
    narrate(run.appended.slice(narrated), say);
  }
  const budgetEvents = run.appended.slice(mark);
  const compaction = budgetEvents.find((e) => e.type === 'ContextCompacted');
  return {
    levels: budgetEvents.flatMap((e) => (e.type === 'BudgetThresholdCrossed' ? [e.data.level] : [])),
    checkpoints: budgetEvents.flatMap((e) => (e.type === 'CheckpointCreated' ? [e.data.checkpointId] : [])),
    compaction:
      compaction?.type === 'ContextCompacted'
        ? { tokensBefore: compaction.data.tokensBefore, tokensAfter: compaction.data.tokensAfter ?? 0 }
        : null,
  };
}

/** The spec writer hands the session to the implementer with a validated package; the implementer accepts it. */
async function handoffStep(session: SessionHandle, round: number, say: Say): Promise<DemoSteps['handoff']> {
  const from = session.state.session.agent;
  const to = from === IMPLEMENTER ? SPEC_AGENT : IMPLEMENTER;
  say(`Handoff: ${from} hands the session to ${to}`);
  const handoff = await session.requestHandoff({
    handoffId: `r${round}-handoff`,
    fromAgent: from,
    toAgent: to,
    summary: `Round ${round}: the store is specified, built, tested and documented; the review under load is open.`,
    keyDecisions: ['fsync policy: group commit', 'a torn tail is truncated on open'],
  });
  say(
    `  requested    ${handoff.handoff_id}: checkpoint ${handoff.recovery_info.checkpoint_id ?? 'none'}, ` +
      `${tokens(handoff.session_context.tokens_available)} tokens free, ${plural(handoff.task_context.open_tasks.length, 'open task')}`,
  );
  await session.acceptHandoff(handoff.handoff_id, to);
  say(`  accepted     by ${to}, who now works the session`);
  return { handoffId: handoff.handoff_id, from, to, checkpointId: handoff.recovery_info.checkpoint_id };
}

/** A fork tries an alternative design from the current version, then is ended; the parent never sees its events. */
async function forkStep(engine: Engine, session: SessionHandle, round: number, say: Say): Promise<DemoSteps['fork']> {
  const forkId = `${session.sessionId}-r${round}-alt`;
  let fork: SessionHandle;
  try {
    fork = await engine.forkSession(session.sessionId, { sessionId: forkId, agent: IMPLEMENTER, title: 'Try an LSM tree instead' });
  } catch (error) {
    if (!isCommandRejectedError(error)) throw error;
    say(`Fork: skipped: ${error.message}`);
    return { skipped: error.message };
  }
  const parentVersion = fork.state.session.parent?.version ?? session.state.version;
  say(`Fork: ${forkId} branches from ${session.sessionId} at v${parentVersion} to try an LSM tree`);
  const task = `r${round}-lsm`;
  await fork.addTask({ taskId: task, title: 'Prototype an LSM tree', phase: 'explore', assignee: IMPLEMENTER }, { agent: IMPLEMENTER });
  await move(fork, say, task, 'START', IMPLEMENTER);
  await fork.end('explored: the log-structured design stays', IMPLEMENTER);
  say(`  ended        ${forkId} at v${fork.state.version}; ${session.sessionId} is still at v${session.state.version}`);
  return { sessionId: forkId, parentVersion };
}

/**
 * The review fails; a recovery restores the newest valid checkpoint, checks it
 * against the log, replays what came after, and recovers the failed task,
 * which then resumes and completes.
 */
async function recoveryStep(
  run: EngineRun,
  session: SessionHandle,
  round: number,
  say: Say,
): Promise<{ session: SessionHandle; step: DemoSteps['recovery'] }> {
  const review = `r${round}-review`;
  const agent = session.state.session.agent;
  say(`Recovery: the review fails, and the session is recovered`);
  await move(session, say, review, 'FAIL', agent, 'the compaction dropped the load-test notes');
  const { handle, report } = await run.engine.recover(session.sessionId, { agent });
  say(
    `  recovered    ${report.recoveryId}: ` +
      (report.checkpointId === undefined ? 'replayed the whole log' : `restored ${report.checkpointId}, replayed ${plural(report.eventsReplayed, 'event')} after it`) +
      `; ${report.recoveredTasks.length > 0 ? `${report.recoveredTasks.join(', ')} -> recovered` : 'nothing failed'}` +
      (report.tokensLeft === undefined ? '' : `; ${tokens(report.tokensLeft)} tokens left`),
  );
  await move(handle, say, review, 'RESUME', agent);
  await call(handle, agent, 4_000, 1_200);
  await move(handle, say, review, 'COMPLETE', agent);
  return {
    session: handle,
    step: { recoveryId: report.recoveryId, checkpointId: report.checkpointId ?? null, recoveredTasks: report.recoveredTasks },
  };
}
