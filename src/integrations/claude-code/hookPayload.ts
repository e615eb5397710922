// A Claude Code hook payload (the JSON object on the hook's standard input),
// read leniently: every field may be missing, of another type, or new. Only
// the fields the mapping uses are picked out, each checked for its type; the
// rest is kept as it came, for the spool and the hook log.

import { asId, asNumber, asObject, asString } from './transcript/toolShapes.js';

/** The fields of a hook payload the mapping reads, each present only when it had the right type. */
export interface HookPayload {
  /** The event (`hook_event_name`); `''` when the payload names none. */
  event: string;
  /** Claude Code's session id. */
  sessionId?: string;
  transcriptPath?: string;
  cwd?: string;
  /** SessionStart's `source` (`startup`, `resume`, `clear`, `compact`, `fork`, or a newer one). */
  source?: string;
  model?: string;
  /** PreCompact / PostCompact's `trigger`. */
  trigger?: string;
  /** PostCompact's `compact_summary`. */
  compactSummary?: string;
  /** SessionEnd's `reason`. */
  reason?: string;
  toolName?: string;
  toolInput?: Record<string, unknown>;
  /** PostToolUse's `tool_response` (an object, or the text some tools return). */
  toolResponse?: unknown;
  toolUseId?: string;
  /** PostToolUseFailure's `error`. */
  error?: string;
  isInterrupt?: boolean;
  /** Subagent events' `agent_id` / `agent_type`, and SubagentStop's `agent_transcript_path`. */
  agentId?: string;
  agentType?: string;
  agentTranscriptPath?: string;
  /** TaskCreated / TaskCompleted. */
  taskId?: string;
  taskSubject?: string;
  /** PostModelSwitch. */
  toModel?: string;
  /** SessionStart on resume (newer builds): the last response's context. */
  contextTokens?: number;
  /** The whole object as it came. */
  raw: Record<string, unknown>;
}

/** Why a hook's standard input is not a payload. */
export class HookInputError extends Error {}

/**
 * Read a payload from the hook's standard input. Not JSON, or JSON that is
 * not an object, is a {@link HookInputError} naming the position (the hook
 * logs it and exits 0); any object is a payload, whatever fields it lacks.
 */
export function parseHookPayload(text: string): HookPayload {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HookInputError(`the hook's standard input is not JSON (${(error as Error).message}); ${text.length} characters read`);
  }
  const raw = asObject(value);
  if (raw === undefined) throw new HookInputError(`the hook's standard input is JSON but not an object (${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})`);
  return payloadOf(raw);
}

const nonEmpty = (value: unknown): string | undefined => {
  const text = asString(value);
  return text === undefined || text === '' ? undefined : text;
};

/** The payload of an object already parsed (a spool entry, an SDK callback's input). */
export function payloadOf(raw: Record<string, unknown>): HookPayload {
  const payload: HookPayload = { event: asString(raw.hook_event_name) ?? '', raw };
  const set = <K extends keyof HookPayload>(key: K, value: HookPayload[K] | undefined): void => {
    if (value !== undefined) payload[key] = value;
  };
  set('sessionId', nonEmpty(raw.session_id));
  set('transcriptPath', nonEmpty(raw.transcript_path));
  set('cwd', nonEmpty(raw.cwd));
  set('source', nonEmpty(raw.source));
  set('model', nonEmpty(raw.model) ?? nonEmpty(asObject(raw.model)?.id));
  set('trigger', nonEmpty(raw.trigger));
  set('compactSummary', nonEmpty(raw.compact_summary));
  set('reason', nonEmpty(raw.reason));
  set('toolName', nonEmpty(raw.tool_name));
  set('toolInput', asObject(raw.tool_input));
  if (raw.tool_response !== undefined && raw.tool_response !== null) payload.toolResponse = raw.tool_response;
  set('toolUseId', nonEmpty(raw.tool_use_id));
  set('error', asString(raw.error) ?? nonEmpty(asObject(raw.error)?.message));
  if (typeof raw.is_interrupt === 'boolean') payload.isInterrupt = raw.is_interrupt;
  set('agentId', asId(raw.agent_id));
  set('agentType', nonEmpty(raw.agent_type));
  set('agentTranscriptPath', nonEmpty(raw.agent_transcript_path));
  set('taskId', asId(raw.task_id));
  set('taskSubject', nonEmpty(raw.task_subject));
  set('toModel', nonEmpty(raw.to_model));
  const contextTokens = asNumber(raw.context_tokens);
  if (contextTokens !== undefined && Number.isSafeInteger(contextTokens) && contextTokens >= 0) payload.contextTokens = contextTokens;
  return payload;
}
