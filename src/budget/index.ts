// The token budget: pure functions over usage numbers, no I/O.
export * from './contextWindows.js';
export * from './usage.js';
export * from './thresholds.js';
export * from './allocation.js';
