import { deepFreeze } from '../util/deepFreeze.js';
import { DEFAULT_CONFIG_DATA } from './generated/configCheck.js';
import type { MoaiConfig } from './schema.js';

/**
 * The defaults of every key, built from the schema's `default`s at build time
 * (no TypeBox at run time). Frozen: copy it (`structuredClone(DEFAULT_CONFIG)`)
 * to change a value.
 *
 * @example
 * DEFAULT_CONFIG.session.context_budget.warning_threshold_percent; // 75
 */
export const DEFAULT_CONFIG: MoaiConfig = deepFreeze(DEFAULT_CONFIG_DATA);
