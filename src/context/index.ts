// Context items and the re-injectable context of a session.
export * from './decideContext.js';
export * from './packText.js';
export * from './renderContextItems.js';
export * from './sessionContext.js';
