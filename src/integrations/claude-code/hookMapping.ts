// The one mapping of Claude Code hook events to what the session records:
// for each event HOOKS.md lists, which transcripts are read and which
// commands the payload itself gives. Pure: a payload and the session's view
// in, a plan out; the hook runner does the reading and the appending.
// docs/claude-code.md holds the same table (a test keeps them equal).

import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { SessionCommand } from '../../engine/commands.js';
import type { TaskMove } from '../../engine/decideIntake.js';
import type { SessionView } from '../../projections/sessionView.js';
import type { HookPayload } from './hookPayload.js';
import {
  subagentMove,
  subagentStateOfResult,
  SUBAGENT_TOOLS,
  taskCreateMove,
  taskUpdateMove,
  todoMoves,
  TODO_LIST,
  toolTaskId,
  unusableTodos,
} from './taskTools.js';
import { asObject, asString, subagentResultFacts, taskResultFacts, todoItems } from './transcript/toolShapes.js';
import { clipText } from '../../util/clipText.js';

/** How the main transcript is read for an event: not at all, up to the last complete call, or everything (the turn is over). */
export type TranscriptRead = 'none' | 'read' | 'flush';

/** What one payload asks of the session. */
export interface HookPlan {
  /** How the main transcript (`transcript_path`) is read, from where the session last read it. */
  transcript: TranscriptRead;
  /** A subagent's transcript to read whole up to its end (SubagentStop). */
  subagentTranscript?: { agentId: string; path: string };
  /** Commands from the payload itself, after what the transcripts give. */
  commands: SessionCommand[];
  /** Take a checkpoint when the interval has passed. */
  checkpointIfDue?: boolean;
  /** End the session, with this reason. */
  end?: string;
  /** Give the session's context back to Claude Code (SessionStart). */
  printContext?: boolean;
  /** What the payload held that is not recorded and why, for the hook log. */
  warnings?: string[];
}

/** One row of the mapping. */
export interface HookEventRule {
  /** What the event records, in words (the docs table's second column). */
  records: string;
  /** The plan for one payload of the event, against the session's view now. */
  plan(payload: HookPayload, view: SessionView): HookPlan;
}

/** A plan that records nothing: the event is accepted and ignored. */
const ignored = (): HookPlan => ({ transcript: 'none', commands: [] });

/** The key that stands for a tool call with no `tool_use_id` (2025 captures lack it): its name, input and result. */
export function toolCallKey(payload: HookPayload): string | undefined {
  if (payload.toolUseId !== undefined) return payload.toolUseId.slice(0, 200);
  if (payload.toolName === undefined) return undefined;
  const hash = createHash('sha256')
    .update(JSON.stringify([payload.toolName, payload.toolInput ?? null, payload.toolResponse ?? null]))
    .digest('hex')
    .slice(0, 24);
  return `hook:${hash}`;
}

const textOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The task moves a PostToolUse of a task tool or a subagent launch gives, with the key each group is recorded under. */
export function toolUseCommands(payload: HookPayload): SessionCommand[] {
  const tool = payload.toolName;
  const key = toolCallKey(payload);
  if (tool === undefined || key === undefined) return [];
  const input = payload.toolInput ?? {};
  const response = payload.toolResponse;
  const moves = (list: TaskMove[], toolUseId: string): SessionCommand[] => (list.length === 0 ? [] : [{ type: 'MoveTasks', moves: list, toolUseId }]);
  switch (tool) {
    case 'TodoWrite': {
      const todos = todoItems(asObject(response)?.newTodos) ?? todoItems(input.todos);
      // The whole list, an empty one too (every open item dropped).
      return todos === undefined ? [] : [{ type: 'MoveTasks', moves: todoMoves(todos), toolUseId: key, list: TODO_LIST }];
    }
    case 'TaskCreate': {
      const facts = taskResultFacts('TaskCreate', response, textOf(response));
      const move = taskCreateMove(facts.taskId, facts.subject ?? asString(input.subject));
      return move === undefined ? [] : moves([move], key);
    }
    case 'TaskUpdate': {
      const facts = taskResultFacts('TaskUpdate', response, textOf(response));
      const taskId = facts.taskId ?? (typeof input.taskId === 'number' ? String(input.taskId) : asString(input.taskId));
      const move = taskUpdateMove(taskId, facts.statusTo ?? asString(input.status), asString(input.subject) ?? facts.subject);
      return move === undefined ? [] : moves([move], key);
    }
    default: {
      if (!SUBAGENT_TOOLS.has(tool)) return [];
      const facts = subagentResultFacts(response, textOf(response) ?? textOf(asObject(response)?.content));
      const agentId = facts.agentId ?? key;
      const to = subagentStateOfResult(facts.status, false);
      const move = subagentMove({ agentId, description: asString(input.description), agentType: asString(input.subagent_type) }, to);
      // The same keys as a transcript's launch and result, so that reading both records each once.
      return moves([move], to === 'in_progress' ? `${key}#start` : key);
    }
  }
}

/** What a PostToolUse of a task tool holds that names no task (a TodoWrite item without usable content), in words. */
export function toolUseWarnings(payload: HookPayload): string[] {
  if (payload.toolName !== 'TodoWrite') return [];
  const response = asObject(payload.toolResponse)?.newTodos;
  const skipped = unusableTodos(Array.isArray(response) ? response : payload.toolInput?.todos);
  return skipped === 0 ? [] : [`TodoWrite: ${skipped} item${skipped === 1 ? '' : 's'} without usable content skipped (no task made of ${skipped === 1 ? 'it' : 'them'})`];
}

/** Where a subagent's transcript is when the payload does not say: `<session>/subagents/agent-<id>.jsonl` beside the main file. */
export function subagentTranscriptPath(payload: HookPayload): string | undefined {
  if (payload.agentTranscriptPath !== undefined) return payload.agentTranscriptPath;
  if (payload.agentId === undefined || payload.transcriptPath === undefined) return undefined;
  const main = payload.transcriptPath;
  const session = main.replace(/^.*\//, '').replace(/\.jsonl$/, '');
  return join(dirname(main), session, 'subagents', `agent-${payload.agentId}.jsonl`);
}

const subagentMoves = (payload: HookPayload, to: 'in_progress' | 'completed', key: string): SessionCommand[] => {
  if (payload.agentId === undefined) return [];
  return [{ type: 'MoveTasks', moves: [subagentMove({ agentId: payload.agentId, agentType: payload.agentType }, to)], toolUseId: key.slice(0, 200) }];
};

const teamTaskMove = (payload: HookPayload, to: 'pending' | 'completed', key: string): SessionCommand[] => {
  if (payload.taskId === undefined) return [];
  const title = payload.taskSubject ?? `Task ${payload.taskId}`;
  return [{ type: 'MoveTask', taskId: toolTaskId(payload.taskId), to, title: title.slice(0, 1000), toolUseId: `${key}:${payload.taskId}`.slice(0, 200) }];
};

/**
 * Every hook event HOOKS.md lists (33 in the Agent SDK's `HOOK_EVENTS`, plus
 * `Interrupt` and `PreSkillShellCommand` of its types), and what each
 * records. An event not here is {@link UNKNOWN_EVENT_RULE}: accepted and
 * ignored. Subagents are tasks of their session (not child sessions): their
 * calls are the session's spend, as Claude Code bills them, and the task
 * machine tracks each one's launch and end.
 */
export const HOOK_EVENT_RULES: Readonly<Record<string, HookEventRule>> = {
  SessionStart: {
    records:
      'starts the session (`startup`, `clear`), resumes it (`resume`; an id the log does not know whose transcript names a known session: that one, with the id as an alias), forks it (`fork`), or goes on after a compaction (`compact`); a session that has ended and is resumed goes on in a fork of it (`<id>.2`) known by the id; reads the transcript; prints the re-injectable context as `additionalContext`',
    plan: () => ({ transcript: 'read', commands: [], printContext: true }),
  },
  UserPromptSubmit: {
    records: 'reads the transcript (the calls of the turn before); the prompt itself is not kept',
    plan: () => ({ transcript: 'read', commands: [] }),
  },
  UserPromptExpansion: { records: 'ignored', plan: ignored },
  PreToolUse: { records: 'ignored (the tool is recorded when it has run: PostToolUse)', plan: ignored },
  PostToolUse: {
    records:
      '`TodoWrite`, `TaskCreate`, `TaskUpdate`: tasks moved along the machine\'s legal path (added first when new), keyed by `tool_use_id`; `Task` / `Agent`: the subagent\'s task started (`async_launched`) or done (inside a subagent, with `agent_id`: neither, its list is its own); every tool: the transcript read',
    // Inside a subagent (`agent_id` set) a task tool is the subagent's own list, as in a transcript's sidechain: not the session's tasks.
    plan: (payload) => {
      const plan: HookPlan = { transcript: 'read', commands: payload.agentId === undefined ? toolUseCommands(payload) : [] };
      const warnings = payload.agentId === undefined ? toolUseWarnings(payload) : [];
      if (warnings.length > 0) plan.warnings = warnings;
      return plan;
    },
  },
  PostToolUseFailure: {
    records: '`ToolCallFailed` against the task in progress (not failing it), keyed by `tool_use_id`; the transcript read',
    plan: (payload) => {
      const command: SessionCommand = {
        type: 'RecordToolFailure',
        tool: (payload.toolName ?? 'unknown').slice(0, 200),
        error: clipText(payload.error ?? 'the tool failed', 10_000),
      };
      const key = toolCallKey(payload);
      if (key !== undefined) command.toolUseId = key;
      if (payload.isInterrupt !== undefined) command.interrupted = payload.isInterrupt;
      return { transcript: 'read', commands: [command] };
    },
  },
  PostToolBatch: { records: 'ignored (each tool has its PostToolUse)', plan: ignored },
  PermissionRequest: { records: 'ignored', plan: ignored },
  PermissionDenied: { records: 'ignored', plan: ignored },
  Notification: { records: 'ignored', plan: ignored },
  PreCompact: {
    records:
      'reads the transcript to its end, so the usage before the compaction is in; the compaction itself (`ContextCompacted`, trigger, tokens before and after when known, the summary kept as context) comes from the `compact_boundary` record the next read finds',
    plan: () => ({ transcript: 'flush', commands: [] }),
  },
  PostCompact: {
    records: 'reads the transcript (the `compact_boundary`: `ContextCompacted`); `compact_summary` kept as the supporting context item tagged `compaction-summary`',
    plan: (payload) => {
      const commands: SessionCommand[] = [];
      if (payload.compactSummary !== undefined && payload.compactSummary.trim() !== '') {
        const summary = clipText(payload.compactSummary, 10_000, '…');
        const hash = createHash('sha256').update(summary).digest('hex').slice(0, 16);
        commands.push({ type: 'RecordContextItem', itemId: `compaction-${hash}`, tier: 'supporting', kind: 'summary', tag: 'compaction-summary', text: summary, source: 'claude-code' });
      }
      return { transcript: 'read', commands };
    },
  },
  Stop: {
    records: 'reads the transcript to its end (the turn is over: every call of it recorded); a checkpoint when the interval has passed',
    plan: () => ({ transcript: 'flush', commands: [], checkpointIfDue: true }),
  },
  StopFailure: { records: 'reads the transcript to its end (the turn ended on an API error)', plan: () => ({ transcript: 'flush', commands: [] }) },
  SubagentStart: {
    records: "the subagent's task (`agent-<agent_id>`) added and started",
    plan: (payload) => ({ transcript: 'none', commands: subagentMoves(payload, 'in_progress', `subagent:${payload.agentId ?? ''}#start`) }),
  },
  SubagentStop: {
    records: "the subagent's transcript (`agent_transcript_path`) read to its end: its calls as the session's sidechain usage; its task completed",
    plan: (payload) => {
      const path = subagentTranscriptPath(payload);
      const plan: HookPlan = { transcript: 'read', commands: subagentMoves(payload, 'completed', `subagent:${payload.agentId ?? ''}#stop`) };
      if (payload.agentId !== undefined && path !== undefined) plan.subagentTranscript = { agentId: payload.agentId, path };
      return plan;
    },
  },
  SessionEnd: {
    records: 'reads the transcript to its end, then ends the session (a checkpoint first when `auto_checkpoint` is on) with `reason`',
    plan: (payload) => ({ transcript: 'flush', commands: [], end: `claude-code: ${payload.reason ?? 'session ended'}`.slice(0, 200) }),
  },
  PreModelSwitch: { records: 'ignored (the switch is recorded once it is done)', plan: ignored },
  PostModelSwitch: {
    records: 'reads the transcript; `SwitchModel` to `to_model` (working tasks pass through `context_switch`)',
    plan: (payload, view) => ({
      transcript: 'read',
      commands: payload.toModel === undefined || payload.toModel === view.session.model ? [] : [{ type: 'SwitchModel', model: payload.toModel.slice(0, 200), reason: 'Claude Code switched the model' }],
    }),
  },
  TaskCreated: {
    records: 'the task (`task-<task_id>`, titled by `task_subject`) added, pending',
    plan: (payload) => ({ transcript: 'none', commands: teamTaskMove(payload, 'pending', 'task-created') }),
  },
  TaskCompleted: {
    records: 'the task brought to `completed` along the legal path (added first when new)',
    plan: (payload) => ({ transcript: 'none', commands: teamTaskMove(payload, 'completed', 'task-completed') }),
  },
  TeammateIdle: { records: 'ignored', plan: ignored },
  Setup: { records: 'ignored', plan: ignored },
  Elicitation: { records: 'ignored', plan: ignored },
  ElicitationResult: { records: 'ignored', plan: ignored },
  ConfigChange: { records: 'ignored', plan: ignored },
  InstructionsLoaded: { records: 'ignored', plan: ignored },
  WorktreeCreate: { records: 'ignored', plan: ignored },
  WorktreeRemove: { records: 'ignored', plan: ignored },
  CwdChanged: { records: 'ignored', plan: ignored },
  FileChanged: { records: 'ignored', plan: ignored },
  DirectoryAdded: { records: 'ignored', plan: ignored },
  MessageDisplay: { records: 'ignored', plan: ignored },
  Interrupt: { records: 'reads the transcript to its end (the turn was interrupted)', plan: () => ({ transcript: 'flush', commands: [] }) },
  PreSkillShellCommand: { records: 'ignored', plan: ignored },
};

/** The rule of an event not in the table (a newer Claude Code's): accepted and ignored, never an error. */
export const UNKNOWN_EVENT_RULE: HookEventRule = { records: 'ignored', plan: ignored };

/** True when an event's payloads record nothing (the rule is the shared `ignored` one): the hook need not open the log. */
export const recordsNothing = (rule: HookEventRule): boolean => rule.plan === ignored;

/** The rule for an event name. */
export const ruleOf = (event: string): HookEventRule => (Object.hasOwn(HOOK_EVENT_RULES, event) ? HOOK_EVENT_RULES[event]! : UNKNOWN_EVENT_RULE);
