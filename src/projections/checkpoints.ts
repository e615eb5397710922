import type { StoredEvent } from '../events/envelope.js';
import { AppendOnlyList } from './appendOnlyList.js';
import { PersistentSet } from './persistentMap.js';
import type { Projection } from './projection.js';

/** A checkpoint as the log records it. */
export interface CheckpointRef {
  checkpointId: string;
  reason: string;
  /** The store position and stream version the checkpoint captured. */
  position: number;
  version: number;
  checksum: string;
  at: string;
  /** The working folder's git state then, when it was a repository. */
  git?: { commit: string | null; branch: string | null; changedFiles: number };
}

/** The checkpoints of a session, and which of them were archived. */
export interface CheckpointsState {
  all: AppendOnlyList<CheckpointRef>;
  archived: ReadonlySet<string>;
}

/** The checkpoints-list projection. */
export const checkpointsProjection: Projection<CheckpointsState> = {
  name: 'checkpoints',
  initialState: () => ({ all: AppendOnlyList.empty(), archived: PersistentSet.empty<string>() }),
  evolve(state, event: StoredEvent) {
    switch (event.type) {
      case 'CheckpointCreated':
        return { ...state, all: state.all.append({ ...event.data, at: event.meta.at }) };
      case 'SessionForked':
        // A fork's checkpoints are its own: its parent's stay the parent's.
        return checkpointsProjection.initialState();
      case 'CheckpointArchived':
        return { ...state, archived: (state.archived as PersistentSet<string>).add(event.data.checkpointId) };
      default:
        return state;
    }
  },
};
