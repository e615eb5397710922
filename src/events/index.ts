export * from './schemas.js';
export * from './envelope.js';
export * from './upcasters.js';
export * from './validate.js';
