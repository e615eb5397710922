import type { Static } from '@sinclair/typebox';
import type { EVENT_DATA_SCHEMAS } from './schemas.js';

/*
 * What the rest of the code needs to know about event types without their
 * schemas: the names, the current schema versions, the types. Kept apart
 * from `schemas.ts` so that reading or writing events never loads TypeBox.
 */

/** The name of an event type. */
export type EventType = keyof typeof EVENT_DATA_SCHEMAS;

/** The `data` of an event of type `T`. */
export type EventData<T extends EventType> = Static<(typeof EVENT_DATA_SCHEMAS)[T]>;

/** A stream's event before it is stored: its type and data. */
export type SessionEventBody = { [K in EventType]: { type: K; data: EventData<K> } }[EventType];

/** The current schema version of each event type; older versions are upcast on read. */
export const CURRENT_SCHEMA_VERSIONS: { readonly [K in EventType]: number } = {
  SessionStarted: 1,
  SessionResumed: 1,
  SessionForked: 1,
  SessionEnded: 1,
  ModelSwitched: 1,
  TaskAdded: 1,
  TaskTransitioned: 1,
  TokenUsageRecorded: 2,
  BudgetThresholdCrossed: 1,
  BudgetThresholdCleared: 1,
  ContextCompacted: 1,
  CheckpointCreated: 2,
  CheckpointArchived: 1,
  HandoffRequested: 1,
  HandoffAccepted: 1,
  HandoffRejected: 1,
  RecoveryStarted: 1,
  RecoveryStepCompleted: 1,
  RecoveryCompleted: 1,
  ContextItemRecorded: 1,
  ContextItemUpdated: 1,
  ContextItemDropped: 1,
  TranscriptRead: 1,
  SessionAliasAdded: 1,
  ToolCallFailed: 1,
  EventLost: 1,
  TaskDeleted: 1,
};

/** Every event type, in the order the design lists them. */
export const EVENT_TYPES = Object.keys(CURRENT_SCHEMA_VERSIONS) as EventType[];

/** True when `type` names a known event type. */
export const isEventType = (type: string): type is EventType => Object.hasOwn(CURRENT_SCHEMA_VERSIONS, type);
