// moai-session/schemas: the TypeBox schemas behind the validators, for tools
// that want the JSON Schema of an event, the config or a handoff package.
// Kept apart from the engine's entry point because loading them loads TypeBox.
export { EVENT_DATA_SCHEMAS } from './events/schemas.js';
export { MoaiConfigSchema, MoaiConfigFileSchema } from './config/schema.js';
export { configJsonSchema, JSON_SCHEMA_DIALECT } from './config/jsonSchema.js';
export {
  HandoffTaskSchema,
  HandoffSessionContextSchema,
  HandoffTaskContextSchema,
  HandoffContextSnapshotSchema,
  HandoffRecoveryInfoSchema,
  HandoffPackageSchema,
} from './handoff/handoffPackage.js';
