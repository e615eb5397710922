// The memory files under `.moai/sessions/`: projections of the log written as files, kept in sync and checked.
export * from './memoryFiles.js';
export * from './writeMemoryFiles.js';
export * from './memorySync.js';
export * from './checkMemorySync.js';
