import type { MoaiConfig } from '../config/schema.js';
import { DEFAULT_CONFIG } from '../config/defaultConfig.js';
import type { ModelPrice } from '../budget/pricing.js';
import type { BudgetSettings } from './decideBudget.js';

/** The engine's settings, from `.moai/config/config.json` (see the config module for each key). */
export interface EngineSettings {
  budget: BudgetSettings;
  reserveTokens: number;
  allocation: { system: number; conversation: number; reference: number; reserve: number };
  autoCheckpoint: boolean;
  checkpointIntervalMinutes: number;
  checkpointRetentionDays: number;
  forkingEnabled: boolean;
  maxParallelSessions: number;
  /** A session with no event for this long stops counting toward `maxParallelSessions`, in minutes. */
  idleSessionMinutes: number;
  recoveryStrategy: MoaiConfig['session']['recovery_strategy'];
  handoff: { minAvailableTokens: number; compatibleAgents: Readonly<Record<string, readonly string[]>> };
  persistenceEnabled: boolean;
  /** Price overrides by model id or family (USD per million tokens), over the built-in list prices. */
  prices: Readonly<Record<string, ModelPrice>>;
}

/** The engine settings a config gives. */
export function settingsFromConfig(config: MoaiConfig = DEFAULT_CONFIG): EngineSettings {
  const session = config.session;
  const budget = session.context_budget;
  return {
    budget: {
      thresholds: {
        monitor: budget.monitor_threshold_percent,
        warning: budget.warning_threshold_percent,
        emergency: budget.emergency_threshold_percent,
      },
      contextWindows: config.models.context_windows,
    },
    reserveTokens: budget.reserve_tokens,
    allocation: { ...budget.allocation },
    autoCheckpoint: session.auto_checkpoint,
    checkpointIntervalMinutes: session.checkpoint_interval_minutes,
    checkpointRetentionDays: session.checkpoint_retention_days,
    forkingEnabled: session.forking_enabled,
    maxParallelSessions: session.max_parallel_sessions,
    idleSessionMinutes: session.idle_session_minutes,
    recoveryStrategy: session.recovery_strategy,
    handoff: {
      minAvailableTokens: session.handoff.min_available_tokens,
      compatibleAgents: session.handoff.compatible_agents,
    },
    persistenceEnabled: session.persistence_enabled,
    prices: Object.fromEntries(
      Object.entries(config.models.prices ?? {}).map(([model, p]) => [
        model,
        { input: p.input, output: p.output, cacheWrite: p.cache_write, cacheRead: p.cache_read },
      ]),
    ),
  };
}
