import type { EventType } from '../../src/events/eventTypes.js';

/*
 * Valid values of every schema the validators check, and a way to spoil
 * them one leaf at a time: the samples the generated checks are compared on.
 */

const META = { at: '2026-01-01T00:00:00.000Z', agent: 'planner', causationId: 'c-1', correlationId: 'k-1' };

/** Valid data of every event type at its current schema version, optional fields filled in. */
export const VALID_EVENT_DATA: { readonly [K in EventType]: Record<string, unknown> } = {
  SessionStarted: { sessionId: 's1', title: 'Build it', agent: 'planner', model: 'claude-sonnet-4-5' },
  SessionResumed: { agent: 'coder', reason: 'a new day' },
  SessionForked: { sessionId: 's2', parentSessionId: 's1', parentVersion: 3, agent: 'coder', model: 'claude-opus-4-6', title: 'Try B' },
  SessionEnded: { reason: 'done' },
  ModelSwitched: { from: 'claude-sonnet-4-5', to: 'claude-opus-4-6', reason: 'harder' },
  TaskAdded: { taskId: 't1', title: 'Write the spec', phase: 'plan', assignee: 'planner' },
  TaskTransitioned: { taskId: 't1', event: 'START', from: 'pending', to: 'in_progress', reason: 'go' },
  TokenUsageRecorded: {
    model: 'claude-sonnet-4-5',
    inputTokens: 1000,
    outputTokens: 200,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 50,
    main: true,
    requestId: 'req_1',
  },
  BudgetThresholdCrossed: { level: 'warning', percent: 75.5, contextTokens: 151_000, contextWindow: 200_000 },
  BudgetThresholdCleared: { level: 'monitor', percent: 10, contextTokens: 20_000, contextWindow: 200_000 },
  ContextCompacted: { tokensBefore: 170_000, tokensAfter: 40_000, trigger: 'emergency', summary: 'short' },
  CheckpointCreated: {
    checkpointId: 'cp-1',
    reason: 'interval',
    position: 12,
    version: 7,
    checksum: 'abc123',
    git: { commit: '3f2a9c1d0b4e5f6a7b8c9d0e1f2a3b4c5d6e7f80', branch: 'main', changedFiles: 2 },
  },
  CheckpointArchived: { checkpointId: 'cp-1', reason: 'retention' },
  HandoffRequested: { handoffId: 'h-1', fromAgent: 'planner', toAgent: 'coder', package: { handoff_id: 'h-1', nested: { a: [1] } } },
  HandoffAccepted: { handoffId: 'h-1', agent: 'coder' },
  HandoffRejected: { handoffId: 'h-1', agent: 'coder', reason: 'busy' },
  RecoveryStarted: { recoveryId: 'r-1', strategy: 'checkpoint_only', checkpointId: 'cp-1' },
  RecoveryStepCompleted: { recoveryId: 'r-1', step: 'replay', detail: 'replayed 3 events' },
  RecoveryCompleted: { recoveryId: 'r-1', summary: 'recovered', openTasks: ['t1', 't2'] },
  ContextItemRecorded: {
    itemId: 'ctx-1',
    tier: 'critical',
    kind: 'constraint',
    tag: 'must_use_pytest',
    text: 'Tests use pytest',
    tokens: 6,
    source: 'cli',
  },
  ContextItemUpdated: { itemId: 'ctx-1', tier: 'supporting', kind: 'note', text: 'Tests use pytest or unittest', tokens: 8, reason: 'relaxed' },
  ContextItemDropped: { itemId: 'ctx-1', reason: 'compaction' },
  TranscriptRead: { file: 'main', path: '/p/s.jsonl', offset: 120, line: 3, checkpoint: { offset: 120 }, open: [], recentKeys: ['msg_1\u0000req_1'] },
  SessionAliasAdded: { alias: '6706089d-9d7e-4f48-bd2d-8f2a2546eb78', source: 'claude-code' },
  ToolCallFailed: { tool: 'Bash', toolUseId: 'toolu_1', taskId: 't1', error: 'Exit code 127' },
  TaskDeleted: { taskId: 'task-3', state: 'in_progress', toolUseId: 'toolu_2' },
  EventLost: { file: 'segment-000001.jsonl', line: 30, reason: 'checksum mismatch', quarantine: '/p/.moai/repair/2026-12-04T20-00-00-000Z/quarantine.jsonl', shown: true },
};

/** A valid stored event of `type` with `data`, at `schemaVersion`. */
export const storedEvent = (type: string, data: unknown, schemaVersion: number) => ({
  position: 4,
  stream: 'session-s1',
  version: 2,
  id: 'e-4',
  type,
  schemaVersion,
  meta: META,
  data,
});

/** A valid new event of `type` with `data`. */
export const newEvent = (type: string, data: unknown, schemaVersion?: number) => ({
  id: 'e-4',
  type,
  ...(schemaVersion === undefined ? {} : { schemaVersion }),
  meta: META,
  data,
});

/** A valid handoff package. */
export const VALID_HANDOFF_PACKAGE = {
  handoff_id: 'h-1',
  from_agent: 'planner',
  to_agent: 'coder',
  created_at: '2026-01-01T12:00:00.000Z',
  session_context: {
    session_id: 's1',
    model: 'claude-sonnet-4-5',
    context_window: 200_000,
    tokens_used: 100_000,
    tokens_available: 100_000,
    log_position: 40,
    session_version: 21,
  },
  task_context: {
    current_task: { id: 't2', title: 'Build', state: 'in_progress', phase: 'build' },
    open_tasks: [
      { id: 't2', title: 'Build', state: 'in_progress', phase: 'build' },
      { id: 't3', title: 'Docs', state: 'pending' },
    ],
    completed_tasks: ['t1'],
  },
  context_snapshot: { summary: 'Spec written.', key_decisions: ['use TypeBox'], files: ['src/a.ts'], checkpoint_id: 'cp-2' },
  recovery_info: { checkpoint_id: 'cp-2', resume_from_version: 20, instructions: 'Restore cp-2.' },
};

// Values that are wrong for most schema nodes, and a few that are right for some.
const REPLACEMENTS: readonly unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  'x',
  '5',
  'has space',
  '-leading-dash',
  'a'.repeat(201),
  'a'.repeat(10_001),
  true,
  [],
  ['a', 'a'],
  [1],
  {},
  { extra: 1 },
];

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every path to a value inside `value` (objects and lists included, the root excluded). */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  const children: [string | number, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : isObject(value)
      ? Object.entries(value)
      : [];
  for (const [key, child] of children) {
    const path = [...prefix, key];
    out.push(path, ...paths(child, path));
  }
  return out;
}

/** `value` with the value at `path` replaced (or deleted, for undefined). */
function replaced(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  const copy = structuredClone(value) as Json;
  let parent: Json | unknown[] = copy;
  for (const key of path.slice(0, -1)) parent = (parent as Json)[key as string] as Json;
  const last = path[path.length - 1]!;
  if (replacement === undefined && !Array.isArray(parent)) delete (parent as Json)[last as string];
  else (parent as Json)[last as string] = structuredClone(replacement);
  return copy;
}

/**
 * `valid`, then `valid` spoilt at each path with each replacement, with an
 * unknown key added at each object, and a few wrong roots.
 */
export function* spoilt(valid: unknown): Generator<unknown> {
  yield valid;
  for (const root of [undefined, null, 1, 'x', [], {}, [valid]]) yield root;
  for (const path of paths(valid)) {
    for (const replacement of REPLACEMENTS) yield replaced(valid, path, replacement);
  }
  for (const path of [[], ...paths(valid)]) {
    const target = path.length === 0 ? valid : path.reduce<unknown>((node, key) => (node as Json)[key as string], valid);
    if (isObject(target)) yield path.length === 0 ? { ...target, unknown_key: 1 } : replaced(valid, path, { ...target, unknown_key: 1 });
  }
}
