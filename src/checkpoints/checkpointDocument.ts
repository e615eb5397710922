import { createHash } from 'node:crypto';
import type SafeStableStringify from 'safe-stable-stringify';
import { requireCommonJs } from '../util/commonJs.js';
import { sessionViewToJson, type SessionView } from '../projections/sessionView.js';

/**
 * A checkpoint as written to `.moai/sessions/checkpoints/<checkpointId>.json`:
 * the projected state of a session at one version, with the checksum that the
 * `CheckpointCreated` event recorded. A checkpoint doubles as a snapshot.
 */
export interface CheckpointDocument {
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
  state: Record<string, unknown>;
}

/** The checksum of a state: SHA-256 of its canonical JSON (keys sorted), as `sha256:<hex>`. */
export function stateChecksum(state: unknown): string {
  const stableStringify = requireCommonJs('safe-stable-stringify') as typeof SafeStableStringify;
  return `sha256:${createHash('sha256').update(stableStringify(state) ?? '').digest('hex')}`;
}

/** The checkpoint document of a view. */
export function buildCheckpointDocument(
  checkpointId: string,
  reason: string,
  createdAt: string,
  view: SessionView,
): CheckpointDocument {
  const state = sessionViewToJson(view);
  return {
    checkpointId,
    sessionId: view.session.sessionId,
    stream: view.session.stream,
    reason,
    createdAt,
    version: view.version,
    position: view.position,
    checksum: stateChecksum(state),
    state,
  };
}

/** True when a document's state still matches its checksum. */
export function isCheckpointIntact(document: Pick<CheckpointDocument, 'state' | 'checksum'>): boolean {
  return stateChecksum(document.state) === document.checksum;
}
