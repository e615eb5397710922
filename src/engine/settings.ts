import type { MoaiConfig } from '../config/schema.js';
import { DEFAULT_CONFIG } from '../config/defaultConfig.js';
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
  recoveryStrategy: MoaiConfig['session']['recovery_strategy'];
  handoff: { minAvailableTokens: number; compatibleAgents: Readonly<Record<string, readonly string[]>> };
  persistenceEnabled: boolean;
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
    recoveryStrategy: session.recovery_strategy,
    handoff: {
      minAvailableTokens: session.handoff.min_available_tokens,
      compatibleAgents: session.handoff.compatible_agents,
    },
    persistenceEnabled: session.persistence_enabled,
  };
}
