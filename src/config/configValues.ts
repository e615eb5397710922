/*
 * The values some config keys accept, as constants the engine and the CLI use
 * without loading the schema (and TypeBox) that is built from them.
 */

/** The recovery strategies `session.recovery_strategy` accepts. */
export const RECOVERY_STRATEGIES = ['progressive_summarization', 'checkpoint_only', 'full_replay'] as const;

/** The event stores `store.kind` accepts. */
export const STORE_KINDS = ['file', 'postgres'] as const;

/** How often the store forces its writes to disk, the values `store.durability` accepts. */
export const STORE_DURABILITIES = ['always', 'batch', 'none'] as const;

/** One of {@link RECOVERY_STRATEGIES}. */
export type RecoveryStrategy = (typeof RECOVERY_STRATEGIES)[number];

/** One of {@link STORE_KINDS}. */
export type StoreKind = (typeof STORE_KINDS)[number];

/** One of {@link STORE_DURABILITIES}. */
export type StoreDurability = (typeof STORE_DURABILITIES)[number];
