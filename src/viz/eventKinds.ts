import type { EventType } from '../events/eventTypes.js';

/** The timeline's lanes: the kinds of event a session's page groups its events by, in the order they are drawn. */
export const EVENT_KINDS = ['task', 'usage', 'threshold', 'compaction', 'checkpoint', 'handoff', 'recovery', 'model', 'fork', 'session', 'context', 'other'] as const;

/** One lane of the timeline. */
export type EventKind = (typeof EVENT_KINDS)[number];

/** What each lane is called on the page. */
export const EVENT_KIND_LABELS: Readonly<Record<EventKind, string>> = {
  task: 'task moves',
  usage: 'usage',
  threshold: 'thresholds',
  compaction: 'compactions',
  checkpoint: 'checkpoints',
  handoff: 'handoffs',
  recovery: 'recovery',
  model: 'model switches',
  fork: 'forks',
  session: 'session',
  context: 'context items',
  other: 'other',
};

const KIND_OF: Partial<Record<EventType, EventKind>> = {
  TaskAdded: 'task',
  TaskTransitioned: 'task',
  TaskDeleted: 'task',
  TokenUsageRecorded: 'usage',
  BudgetThresholdCrossed: 'threshold',
  BudgetThresholdCleared: 'threshold',
  ContextCompacted: 'compaction',
  CheckpointCreated: 'checkpoint',
  CheckpointArchived: 'checkpoint',
  HandoffRequested: 'handoff',
  HandoffAccepted: 'handoff',
  HandoffRejected: 'handoff',
  RecoveryStarted: 'recovery',
  RecoveryStepCompleted: 'recovery',
  RecoveryCompleted: 'recovery',
  ToolCallFailed: 'recovery',
  EventLost: 'recovery',
  ModelSwitched: 'model',
  SessionForked: 'fork',
  SessionStarted: 'session',
  SessionResumed: 'session',
  SessionEnded: 'session',
  SessionAliasAdded: 'session',
  ContextItemRecorded: 'context',
  ContextItemUpdated: 'context',
  ContextItemDropped: 'context',
  TranscriptRead: 'context',
};

/** The lane an event type is drawn in. */
export const eventKindOf = (type: string): EventKind => KIND_OF[type as EventType] ?? 'other';

/** The kinds a long session keeps one by one when its steps are aggregated: the rare ones a reader looks for. */
export const KINDS_KEPT_WHEN_AGGREGATING: ReadonlySet<EventKind> = new Set(['threshold', 'compaction', 'checkpoint', 'handoff', 'recovery', 'model', 'fork', 'session']);
