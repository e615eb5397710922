// Handoff packages: their schema, how to make one from a session view, and how to check one.
export * from './handoffPackage.js';
export * from './buildHandoffPackage.js';
export * from './validateHandoffPackage.js';
export * from './handoffValidationError.js';
export * from './parseHandoffPackageText.js';
export * from './carriedContext.js';
export * from './packageSender.js';
