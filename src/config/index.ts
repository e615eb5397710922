// The configuration of moai-session: `.moai/config/config.json`.
export * from './configError.js';
export * from './configPath.js';
export * from './schema.js';
export * from './parseConfig.js';
export * from './loadConfig.js';
export * from './jsonSchema.js';
export * from './writeDefaultConfig.js';
