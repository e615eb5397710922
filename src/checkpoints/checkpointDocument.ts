import { createHash } from 'node:crypto';
import type SafeStableStringify from 'safe-stable-stringify';
import { requireCommonJs } from '../util/commonJs.js';
import { packText, type PackedText } from '../context/packText.js';
import { renderContextItems } from '../context/renderContextItems.js';
import { contextItemsInOrder } from '../projections/contextItems.js';
import { sessionViewToJson, tasksInOrder, type SessionView } from '../projections/sessionView.js';
import type { GitState } from './gitState.js';

/**
 * The shape of the state a checkpoint holds. 1: before context items, task
 * failure reasons and session activations were part of the view; 2: with
 * them; 3: with the last handoff in the context. An older state restores
 * without what came later (see `sessionViewFromJson`).
 */
export const CHECKPOINT_VIEW_FORMAT = 3;

/**
 * A checkpoint as written to `.moai/sessions/checkpoints/<sessionId>/<checkpointId>.json`.
 *
 * It carries the product document's checkpoint structure under its own names
 * (`checkpoint_id`, `timestamp`, `phase`, `token_usage.used/available`,
 * `context_snapshot`, `session_id`, `recovery_tokens_reserved`) beside the
 * engine's: the projected state of the session at one version, with the
 * checksum that the `CheckpointCreated` event recorded, and the git state of
 * the working folder. A checkpoint doubles as a snapshot. Documents written
 * before the product's fields were added have only the engine's; they load
 * all the same.
 */
export interface CheckpointDocument {
  /** The product's `checkpoint_id`: the same as `checkpointId`. */
  checkpoint_id?: string;
  /** The product's `timestamp`: when the checkpoint was taken, the same as `createdAt`. */
  timestamp?: string;
  /**
   * The product's `phase`: the workflow phase the session was in (a phase that
   * just ended, for a `phase-end:` checkpoint; else the phase of the task worked
   * on last), or null when its tasks name none.
   */
  phase?: string | null;
  /** The product's `token_usage`: the context in use, and what is left of the window (null for a model whose window is not known). */
  token_usage?: { used: number; available: number | null };
  /**
   * The product's `context_snapshot`: the session's critical and supporting
   * context items, one line each (most important first), compressed when long.
   */
  context_snapshot?: PackedText;
  /** The product's `session_id`: the same as `sessionId`. */
  session_id?: string;
  /** The product's `recovery_tokens_reserved`: the tokens the config keeps in reserve for recovery. */
  recovery_tokens_reserved?: number;

  checkpointId: string;
  sessionId: string;
  stream: string;
  reason: string;
  createdAt: string;
  /** The stream version and store position the state was taken at. */
  version: number;
  position: number;
  /** `sha256:<hex>` of the canonical JSON of `state`. */
  checksum: string;
  /** The shape of `state` ({@link CHECKPOINT_VIEW_FORMAT}); absent: 1. */
  viewFormat?: number;
  /** The git state of the working folder when it was taken; null when it is no repository (absent in older documents). */
  git?: GitState | null;
  state: Record<string, unknown>;
}

/** The checksum of a state: SHA-256 of its canonical JSON (keys sorted), as `sha256:<hex>`. */
export function stateChecksum(state: unknown): string {
  const stableStringify = requireCommonJs('safe-stable-stringify') as typeof SafeStableStringify;
  return `sha256:${createHash('sha256').update(stableStringify(state) ?? '').digest('hex')}`;
}

/** What a checkpoint document says beside the view: the window, the reserve, the git state. */
export interface CheckpointDetails {
  /** The context window of the session's model; unknown: `token_usage.available` is null. */
  contextWindow?: number;
  /** `recovery_tokens_reserved`: the config's `session.context_budget.reserve_tokens`. */
  reserveTokens?: number;
  /** The git state of the working folder, or undefined when it is no repository. */
  git?: GitState;
}

/** The product's `phase` of a view: the phase that just ended (a `phase-end:` reason), else the phase of the task that moved last. */
export function checkpointPhase(view: SessionView, reason: string): string | null {
  const ended = /(?:^|, )phase-end:([^,]+)/.exec(reason)?.[1];
  if (ended !== undefined) return ended;
  let phase: string | null = null;
  let version = -1;
  for (const task of tasksInOrder(view)) {
    if (task.phase !== undefined && task.version > version) {
      phase = task.phase;
      version = task.version;
    }
  }
  return phase;
}

/** The checkpoint document of a view. */
export function buildCheckpointDocument(
  checkpointId: string,
  reason: string,
  createdAt: string,
  view: SessionView,
  details: CheckpointDetails = {},
): CheckpointDocument {
  const state = sessionViewToJson(view);
  const used = view.tokens.contextTokens;
  return {
    checkpoint_id: checkpointId,
    timestamp: createdAt,
    phase: checkpointPhase(view, reason),
    token_usage: { used, available: details.contextWindow === undefined ? null : Math.max(0, details.contextWindow - used) },
    context_snapshot: packText(renderContextItems(contextItemsInOrder(view.context), ['critical', 'supporting'])),
    session_id: view.session.sessionId,
    recovery_tokens_reserved: details.reserveTokens ?? 0,
    checkpointId,
    sessionId: view.session.sessionId,
    stream: view.session.stream,
    reason,
    createdAt,
    version: view.version,
    position: view.position,
    checksum: stateChecksum(state),
    viewFormat: CHECKPOINT_VIEW_FORMAT,
    git: details.git ?? null,
    state,
  };
}

/** True when a document's state still matches its checksum. */
export function isCheckpointIntact(document: Pick<CheckpointDocument, 'state' | 'checksum'>): boolean {
  return stateChecksum(document.state) === document.checksum;
}
