export * from './appendOnlyList.js';
export * from './projection.js';
export * from './sessionSummary.js';
export * from './tasks.js';
export * from './tokenHistory.js';
export * from './tokenBudget.js';
export * from './checkpoints.js';
export * from './sessionView.js';
