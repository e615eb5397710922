// Lenient readers of the task and subagent tools' inputs and results. The
// shapes vary by Claude Code version and are undocumented: every field may be
// missing or of another type, and nothing here throws.

import type { TaskToolName, TodoItem, TokenCounts } from './types.js';

type Obj = Record<string, unknown>;

/** The value as a plain object, or undefined. */
export const asObject = (value: unknown): Obj | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;

/** A string, or a number given where an id string was expected ("7" and 7 alike); else undefined. */
export function asId(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The value when it is a string. */
export const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The value when it is a finite number. */
export const asNumber = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** The text of a message or tool_result `content`: the string itself, or its text blocks joined. */
export function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const parts: string[] = [];
  for (const block of content) {
    const text = asObject(block)?.text;
    if (typeof text === 'string') parts.push(text);
  }
  return parts.length > 0 ? parts.join('\n') : undefined;
}

/** A TodoWrite list: the items that have content, with their status (`"pending"` when missing). */
export function todoItems(value: unknown): TodoItem[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const items: TodoItem[] = [];
  for (const raw of value) {
    const item = asObject(raw);
    const content = asString(item?.content);
    if (item === undefined || content === undefined) continue;
    const todo: TodoItem = { content, status: asString(item.status) ?? 'pending' };
    const activeForm = asString(item.activeForm);
    if (activeForm !== undefined) todo.activeForm = activeForm;
    items.push(todo);
  }
  return items;
}

/** Usage counts from an Anthropic `usage` object; undefined when it is not one. */
export function usageCounts(value: unknown): TokenCounts | undefined {
  const usage = asObject(value);
  if (usage === undefined) return undefined;
  return {
    input: asNumber(usage.input_tokens) ?? 0,
    output: asNumber(usage.output_tokens) ?? 0,
    cacheCreation: asNumber(usage.cache_creation_input_tokens) ?? 0,
    cacheRead: asNumber(usage.cache_read_input_tokens) ?? 0,
  };
}

/** What a task tool's result says, from the line's `toolUseResult` and the tool_result block's text. */
export interface TaskResultFacts {
  taskId?: string;
  subject?: string;
  statusFrom?: string;
  statusTo?: string;
  newTodos?: TodoItem[];
}

// Seen in tool_result texts: "Task #3 created successfully: ...", "Updated task #79 status".
const TASK_NUMBER = /task #?(\d+)/i;

/** Read a TodoWrite / TaskCreate / TaskUpdate result. */
export function taskResultFacts(tool: TaskToolName, toolUseResult: unknown, text: string | undefined): TaskResultFacts {
  const result = asObject(toolUseResult);
  const facts: TaskResultFacts = {};
  if (tool === 'TodoWrite') {
    const todos = todoItems(result?.newTodos);
    if (todos !== undefined) facts.newTodos = todos;
    return facts;
  }
  const task = asObject(result?.task);
  const taskId = asId(task?.id) ?? asId(result?.taskId) ?? asId(result?.id) ?? TASK_NUMBER.exec(text ?? '')?.[1];
  if (taskId !== undefined) facts.taskId = taskId;
  const subject = asString(task?.subject) ?? asString(result?.subject);
  if (subject !== undefined) facts.subject = subject;
  const change = asObject(result?.statusChange);
  const from = asString(change?.from);
  const to = asString(change?.to);
  if (from !== undefined) facts.statusFrom = from;
  if (to !== undefined) facts.statusTo = to;
  return facts;
}

/** What a Task / Agent result says about the subagent it ran. */
export interface SubagentResultFacts {
  agentId?: string;
  status?: string;
  totalTokens?: number;
  totalDurationMs?: number;
  totalToolUseCount?: number;
  usage?: TokenCounts;
}

// 2.x results end their text with "agentId: a2898e3 (for resuming ...)".
const AGENT_ID_TEXT = /agentId:\s*([A-Za-z0-9_-]+)/;

/** Read a Task / Agent tool result. */
export function subagentResultFacts(toolUseResult: unknown, text: string | undefined): SubagentResultFacts {
  const result = asObject(toolUseResult);
  const facts: SubagentResultFacts = {};
  const agentId = asId(result?.agentId) ?? AGENT_ID_TEXT.exec(text ?? '')?.[1];
  if (agentId !== undefined) facts.agentId = agentId;
  const status = asString(result?.status);
  if (status !== undefined) facts.status = status;
  const totalTokens = asNumber(result?.totalTokens);
  if (totalTokens !== undefined) facts.totalTokens = totalTokens;
  const totalDurationMs = asNumber(result?.totalDurationMs);
  if (totalDurationMs !== undefined) facts.totalDurationMs = totalDurationMs;
  const totalToolUseCount = asNumber(result?.totalToolUseCount);
  if (totalToolUseCount !== undefined) facts.totalToolUseCount = totalToolUseCount;
  const usage = usageCounts(result?.usage);
  if (usage !== undefined) facts.usage = usage;
  return facts;
}
