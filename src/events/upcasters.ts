import { CURRENT_SCHEMA_VERSIONS, type EventType } from './eventTypes.js';

/**
 * Turns the `data` of one event type at one schema version into the next
 * version. Chains run on read until the type's current version.
 */
export interface Upcaster {
  type: EventType;
  /** The version this upcaster reads; it returns data of `fromVersion + 1`. */
  fromVersion: number;
  upcast(data: unknown): unknown;
}

/** `TokenUsageRecorded` v1 had one input and one output count and no cache counters. */
const tokenUsageV1ToV2: Upcaster = {
  type: 'TokenUsageRecorded',
  fromVersion: 1,
  upcast(data) {
    const v1 = data as { model: string; tokens?: { input: number; output: number } };
    if (typeof v1 !== 'object' || v1 === null || typeof v1.tokens !== 'object' || v1.tokens === null) {
      throw new Error('version 1 data needs { model, tokens: { input, output } }');
    }
    return {
      model: v1.model,
      inputTokens: v1.tokens.input,
      outputTokens: v1.tokens.output,
      cacheCreationInputTokens: 0,
      cacheReadInputTokens: 0,
      main: true,
    };
  },
};

/** `CheckpointCreated` v1 had no git state: its data is v2 data without the optional `git`. */
const checkpointCreatedV1ToV2: Upcaster = {
  type: 'CheckpointCreated',
  fromVersion: 1,
  upcast: (data) => data,
};

/** The upcasters moai-session ships with. */
export const BUILT_IN_UPCASTERS: readonly Upcaster[] = [tokenUsageV1ToV2, checkpointCreatedV1ToV2];

/** Upcasters indexed by type and version, for the read path. */
export class UpcasterRegistry {
  private readonly byKey = new Map<string, Upcaster>();

  constructor(upcasters: readonly Upcaster[] = BUILT_IN_UPCASTERS) {
    for (const upcaster of upcasters) this.byKey.set(`${upcaster.type}@${upcaster.fromVersion}`, upcaster);
  }

  /**
   * Upcast `data` of `type` from `schemaVersion` to the current version, or
   * return a reason it cannot be (no upcaster for a step, or a version from the future).
   */
  upcast(type: EventType, schemaVersion: number, data: unknown): { data: unknown } | { error: string } {
    const current = CURRENT_SCHEMA_VERSIONS[type];
    if (schemaVersion > current) {
      return { error: `${type} schema version ${schemaVersion} is newer than this moai-session knows (${current}); upgrade moai-session` };
    }
    let value = data;
    for (let version = schemaVersion; version < current; version++) {
      const upcaster = this.byKey.get(`${type}@${version}`);
      if (upcaster === undefined) return { error: `no upcaster for ${type} from schema version ${version}` };
      value = upcaster.upcast(value);
    }
    return { data: value };
  }
}
