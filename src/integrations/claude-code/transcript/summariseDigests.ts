// The figures of one import, from the digests of its files: pure, so the
// same digests always give the same summary, whichever thread read them.

import { betterCall, callKey, type TranscriptDigest } from './digestTranscript.js';
import type {
  ApiCallRecord,
  SubagentLaunchRecord,
  SubagentResultRecord,
  TaskCreateRecord,
  TaskToolResultRecord,
  TaskUpdateRecord,
  TodoItem,
  TodoWriteRecord,
  TokenCounts,
  TranscriptCheckpoint,
} from './types.js';

/** Token sums of one model. */
export interface ModelUsageSummary {
  model: string;
  apiCalls: number;
  tokens: TokenCounts;
}

/** One compaction of the main chain. */
export interface CompactionSummary {
  /** `"auto"`, `"manual"`, or `"unknown"` when the record names none. */
  trigger: string;
  preTokens: number | null;
  postTokens?: number;
  /** The boundary's timestamp (ISO-8601), or null. */
  at: string | null;
  file: string;
  line: number;
}

/** One subagent: its spend (each API call once) and what the call that launched it says. */
export interface SubagentSummary {
  agentId: string;
  apiCalls: number;
  tokens: TokenCounts;
  /** True when a transcript of it was read (its file, or its inline sidechain); false when only the launching call names it. */
  transcriptRead: boolean;
  /** `acompact-…` agents are compaction runs, not subagents the model launched. */
  isCompaction: boolean;
  toolUseId?: string;
  description?: string;
  subagentType?: string;
  agentType?: string;
  /** What the Task result reported (its totalTokens is the last call's context, not the spend). */
  reported?: { status?: string; totalTokens?: number; totalDurationMs?: number; totalToolUseCount?: number };
}

/** One task as the task tools leave it. */
export interface TaskSummary {
  /** The TodoWrite item's content, or the TaskCreate id. */
  id: string;
  title: string;
  /** The last status the tools gave it, as written (`pending`, `in_progress`, `completed`, `deleted`, …). */
  state: string;
  source: 'TodoWrite' | 'TaskCreate' | 'TaskUpdate';
  activeForm?: string;
}

/** A line that could not be read. */
export interface SkippedLineSummary {
  file: string;
  line: number;
  reason: string;
}

/** The figures of one import (issue 10's `--json` contract, without the cost, plus what it rests on). */
export interface TranscriptSummary {
  sessionId?: string;
  files: string[];
  /** API calls in every file, each once (Claude Code's own `<synthetic>` messages, written for errors and interruptions, are none). */
  apiCalls: number;
  tokens: TokenCounts;
  /** The same sums by model, for pricing. */
  byModel: ModelUsageSummary[];
  compactions: CompactionSummary[];
  /** Input + cache creation + cache read of a main-chain call: the largest, and the last. */
  peakContextTokens: number;
  finalContextTokens: number;
  models: string[];
  subagents: SubagentSummary[];
  tasks: TaskSummary[];
  skippedLines: SkippedLineSummary[];
  firstTimestamp?: string;
  lastTimestamp?: string;
  cwd?: string;
  version?: string;
  gitBranch?: string;
  /** A 1.0.x `summary` line's title whose leaf is in the session's files. */
  title?: string;
  /** Where each file was read to: pass back (as a spec's `from`) to read only what is appended later. */
  checkpoints: { file: string; checkpoint: TranscriptCheckpoint }[];
}

/** Claude Code's placeholder model for messages it writes itself (errors, interruptions): no API call. */
const SYNTHETIC_MODEL = '<synthetic>';

const zero = (): TokenCounts => ({ input: 0, output: 0, cacheCreation: 0, cacheRead: 0 });

function addTo(sum: TokenCounts, usage: TokenCounts): void {
  sum.input += usage.input;
  sum.output += usage.output;
  sum.cacheCreation += usage.cacheCreation;
  sum.cacheRead += usage.cacheRead;
}

const contextOf = (usage: TokenCounts): number => usage.input + usage.cacheCreation + usage.cacheRead;

interface KeptCall {
  call: ApiCallRecord;
  mainChain: boolean;
}

/**
 * Merge the digests of one session's files (main transcript first, then its
 * subagents; or the digests of successive reads of a growing file, in order)
 * into the import's figures.
 */
export function summariseDigests(digests: readonly TranscriptDigest[]): TranscriptSummary {
  // Each API call once over every file: the fullest line, the main chain's on a tie.
  const kept = new Map<string, number>();
  const calls: KeptCall[] = [];
  const summary: TranscriptSummary = {
    files: [],
    apiCalls: 0,
    tokens: zero(),
    byModel: [],
    compactions: [],
    peakContextTokens: 0,
    finalContextTokens: 0,
    models: [],
    subagents: [],
    tasks: [],
    skippedLines: [],
    checkpoints: [],
  };
  const tasks = new TaskBoard();
  const agents = new AgentBook();
  const titles: { summary: string; leafUuid?: string }[] = [];
  const leaves = new Set<string>();
  const fileOrder = new Set<string>();
  const checkpoints = new Map<string, TranscriptCheckpoint>();
  let first: string | undefined;
  let last: string | undefined;

  for (const { spec, records } of digests) {
    fileOrder.add(spec.path);
    const main = spec.role === 'main';
    if (!main) agents.file(spec.agentId, spec.agentType);
    for (const record of records) {
      switch (record.kind) {
        case 'api-call': {
          const entry = { call: record, mainChain: main && !record.isSidechain };
          const key = callKey(record);
          const at = key === undefined ? undefined : kept.get(key);
          if (at === undefined) {
            if (key !== undefined) kept.set(key, calls.length);
            calls.push(entry);
          } else if (betterCall(record, calls[at]!.call)) {
            calls[at] = entry;
          }
          break;
        }
        case 'compaction':
          if (main && !record.isSidechain) {
            const compaction: CompactionSummary = {
              trigger: record.trigger ?? 'unknown',
              preTokens: record.preTokens ?? null,
              at: record.timestamp ?? null,
              file: spec.path,
              line: record.line,
            };
            if (record.postTokens !== undefined) compaction.postTokens = record.postTokens;
            summary.compactions.push(compaction);
          }
          break;
        case 'session-info':
          if (main) {
            if (record.sessionId !== undefined) summary.sessionId ??= record.sessionId;
            if (record.cwd !== undefined) summary.cwd = record.cwd;
            if (record.version !== undefined) summary.version = record.version;
            if (record.gitBranch !== undefined) summary.gitBranch = record.gitBranch;
          }
          break;
        case 'todo-write':
        case 'task-create':
        case 'task-update':
          // Subagents keep task lists of their own: the session's tasks are the main chain's.
          if (main && !record.isSidechain) tasks.use(record);
          break;
        case 'task-tool-result':
          if (main && !record.isSidechain) tasks.result(record);
          break;
        case 'subagent-launch':
          agents.launch(record);
          break;
        case 'subagent-result':
          agents.result(record);
          break;
        case 'subagent-link':
          agents.link(record.agentId, record.toolUseId);
          break;
        case 'summary':
          titles.push(record.leafUuid === undefined ? { summary: record.summary } : { summary: record.summary, leafUuid: record.leafUuid });
          break;
        case 'skipped':
          summary.skippedLines.push({ file: record.file, line: record.line, reason: record.reason });
          break;
        case 'end':
          for (const leaf of record.summaryLeavesFound) leaves.add(leaf);
          checkpoints.set(spec.path, record.checkpoint);
          first = earliest(first, record.firstTimestamp);
          last = latest(last, record.lastTimestamp);
          break;
        case 'compact-summary':
          break;
      }
    }
  }

  const byModel = new Map<string, ModelUsageSummary>();
  for (const { call, mainChain } of calls) {
    addTo(summary.tokens, call.usage);
    const model = call.model ?? 'unknown';
    if (model !== SYNTHETIC_MODEL) {
      summary.apiCalls++;
      let entry = byModel.get(model);
      if (entry === undefined) byModel.set(model, (entry = { model, apiCalls: 0, tokens: zero() }));
      entry.apiCalls++;
      addTo(entry.tokens, call.usage);
    }
    if (mainChain) {
      const context = contextOf(call.usage);
      if (context > summary.peakContextTokens) summary.peakContextTokens = context;
      summary.finalContextTokens = context;
    } else {
      agents.spend(call);
    }
    first = earliest(first, call.timestamp);
    last = latest(last, call.timestamp);
  }
  summary.byModel = [...byModel.values()];
  summary.models = summary.byModel.map((entry) => entry.model);
  summary.subagents = agents.list();
  summary.tasks = tasks.list();
  summary.files = [...fileOrder];
  summary.checkpoints = [...checkpoints].map(([file, checkpoint]) => ({ file, checkpoint }));
  // A summary line from another session (they leak in, claude-code#2597) names a leaf not in these files.
  const title = titles.findLast((entry) => entry.leafUuid !== undefined && leaves.has(entry.leafUuid));
  if (title !== undefined) summary.title = title.summary;
  if (first !== undefined) summary.firstTimestamp = first;
  if (last !== undefined) summary.lastTimestamp = last;
  return summary;
}

// ISO-8601 UTC timestamps of one format compare as strings.
const earliest = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined || (b !== undefined && b < a) ? b : a);
const latest = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined || (b !== undefined && b > a) ? b : a);

type TaskUse = TodoWriteRecord | TaskCreateRecord | TaskUpdateRecord;

/**
 * The tasks as the task tools leave them. A call counts once its result says
 * it worked (or, when the transcript ends before its result, as it was made):
 * TodoWrite rewrites the whole list (items are known by their content; an
 * item dropped from the list keeps its last state), TaskCreate adds the task
 * its result names, TaskUpdate moves one (creating it when it was never seen).
 */
class TaskBoard {
  private readonly tasks = new Map<string, TaskSummary>();
  private readonly awaiting = new Map<string, TaskUse>();

  use(record: TaskUse): void {
    this.awaiting.set(record.toolUseId, record);
  }

  result(record: TaskToolResultRecord): void {
    const use = this.awaiting.get(record.toolUseId);
    this.awaiting.delete(record.toolUseId);
    if (use === undefined || record.isError) return;
    this.apply(use, record);
  }

  list(): TaskSummary[] {
    // Calls whose result is not in the file yet: the transcript lags the session, so take them as made.
    for (const use of this.awaiting.values()) this.apply(use, undefined);
    this.awaiting.clear();
    return [...this.tasks.values()];
  }

  private apply(use: TaskUse, result: TaskToolResultRecord | undefined): void {
    switch (use.kind) {
      case 'todo-write':
        for (const todo of result?.newTodos ?? use.todos) this.todo(todo);
        return;
      case 'task-create': {
        const id = result?.taskId;
        // Without the id its result names, later updates could not find it: such a task is not made up.
        if (id === undefined) return;
        const task: TaskSummary = { id, title: result?.subject ?? use.subject ?? '', state: 'pending', source: 'TaskCreate' };
        if (use.activeForm !== undefined) task.activeForm = use.activeForm;
        this.tasks.set(id, task);
        return;
      }
      case 'task-update': {
        const id = result?.taskId ?? use.taskId;
        if (id === undefined) return;
        let task = this.tasks.get(id);
        if (task === undefined) {
          task = { id, title: use.subject ?? result?.subject ?? '', state: 'pending', source: 'TaskUpdate' };
          this.tasks.set(id, task);
        }
        const state = result?.statusTo ?? use.status;
        if (state !== undefined) task.state = state;
        if (use.subject !== undefined) task.title = use.subject;
      }
    }
  }

  private todo(todo: TodoItem): void {
    const task = this.tasks.get(todo.content) ?? { id: todo.content, title: todo.content, state: todo.status, source: 'TodoWrite' as const };
    task.state = todo.status;
    if (todo.activeForm !== undefined) task.activeForm = todo.activeForm;
    this.tasks.set(todo.content, task);
  }
}

/** The subagents: their spend, and the launches, results and links that name them. */
class AgentBook {
  private readonly agents = new Map<string, SubagentSummary>();
  private readonly launches = new Map<string, SubagentLaunchRecord>();
  private readonly results = new Map<string, SubagentResultRecord>();
  private readonly links = new Map<string, string>();

  file(agentId: string | undefined, agentType: string | undefined): void {
    if (agentId === undefined) return;
    const agent = this.agent(agentId);
    agent.transcriptRead = true;
    if (agentType !== undefined) agent.agentType = agentType;
  }

  launch(record: SubagentLaunchRecord): void {
    this.launches.set(record.toolUseId, record);
  }

  result(record: SubagentResultRecord): void {
    this.results.set(record.toolUseId, record);
    if (record.resultAgentId !== undefined) this.links.set(record.toolUseId, record.resultAgentId);
  }

  link(agentId: string, toolUseId: string): void {
    if (!this.links.has(toolUseId)) this.links.set(toolUseId, agentId);
  }

  spend(call: ApiCallRecord): void {
    const agent = this.agent(call.agentId ?? 'unknown');
    agent.transcriptRead = true;
    agent.apiCalls++;
    addTo(agent.tokens, call.usage);
  }

  list(): SubagentSummary[] {
    for (const [toolUseId, agentId] of this.links) {
      const agent = this.agent(agentId);
      agent.toolUseId ??= toolUseId;
      const launch = this.launches.get(toolUseId);
      if (launch?.description !== undefined) agent.description ??= launch.description;
      if (launch?.subagentType !== undefined) agent.subagentType ??= launch.subagentType;
      const result = this.results.get(toolUseId);
      if (result !== undefined) {
        const reported: NonNullable<SubagentSummary['reported']> = {};
        if (result.status !== undefined) reported.status = result.status;
        if (result.totalTokens !== undefined) reported.totalTokens = result.totalTokens;
        if (result.totalDurationMs !== undefined) reported.totalDurationMs = result.totalDurationMs;
        if (result.totalToolUseCount !== undefined) reported.totalToolUseCount = result.totalToolUseCount;
        agent.reported = reported;
      }
    }
    return [...this.agents.values()];
  }

  private agent(agentId: string): SubagentSummary {
    let agent = this.agents.get(agentId);
    if (agent === undefined) {
      agent = { agentId, apiCalls: 0, tokens: zero(), transcriptRead: false, isCompaction: agentId.startsWith('acompact') };
      this.agents.set(agentId, agent);
    }
    return agent;
  }
}
