import { UpcasterRegistry } from '../events/upcasters.js';
import { InvalidArgumentError } from '../errors.js';
import type { Durability, FileEventStoreOptions, StoreWarning } from './fileEventStore.js';

/** Offsets in a segment are 32-bit (in memory and in index files): 2 GiB leaves room for the one batch that may pass the limit. */
const MAX_SEGMENT_BYTES = 2 ** 31;

/** {@link FileEventStoreOptions} checked, with every default filled in: what the writer and reader types are made from. */
export interface ResolvedFileStoreOptions {
  readonly dir: string;
  readonly durability: Durability;
  readonly maxSegmentBytes: number;
  readonly followIntervalMs: number;
  readonly lockWaitMs: number;
  readonly upcasters: UpcasterRegistry;
  readonly upcasting: 'built-in' | 'custom';
  readonly onWarning: ((warning: StoreWarning) => void) | undefined;
}

/**
 * Check the options of a file store and fill in the defaults; an option out
 * of range is an {@link InvalidArgumentError} naming it. Every option is
 * checked whichever side it is for, so a mistake shows on either.
 */
export function resolveFileStoreOptions(options: FileEventStoreOptions): ResolvedFileStoreOptions {
  const durability = options.durability ?? 'batch';
  const maxSegmentBytes = options.maxSegmentBytes ?? 64 << 20;
  const followIntervalMs = options.followIntervalMs ?? 200;
  if (!Number.isFinite(followIntervalMs) || followIntervalMs < 1) {
    throw new InvalidArgumentError(`followIntervalMs is a number of milliseconds from 1, not ${String(followIntervalMs)}`);
  }
  if (!Number.isInteger(maxSegmentBytes) || maxSegmentBytes < 1 || maxSegmentBytes > MAX_SEGMENT_BYTES) {
    throw new InvalidArgumentError(`maxSegmentBytes must be a whole number of bytes from 1 to ${MAX_SEGMENT_BYTES} (2 GiB), not ${String(maxSegmentBytes)}`);
  }
  if (!['always', 'batch', 'none'].includes(durability)) {
    throw new InvalidArgumentError(`durability must be always, batch or none, not ${JSON.stringify(durability)}`);
  }
  return {
    dir: options.dir,
    durability,
    maxSegmentBytes,
    followIntervalMs,
    lockWaitMs: options.lockWaitMs ?? 0,
    upcasters: options.upcasters ?? new UpcasterRegistry(),
    upcasting: options.upcasters === undefined ? 'built-in' : 'custom',
    onWarning: options.onWarning,
  };
}
