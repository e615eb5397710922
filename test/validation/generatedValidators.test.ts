import { readFile } from 'node:fs/promises';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderGeneratedFiles } from '../../scripts/validators/render.js';
import { MoaiConfigFileSchema, MoaiConfigSchema } from '../../src/config/schema.js';
import { DEFAULT_CONFIG_DATA, checkConfigFile } from '../../src/config/generated/configCheck.js';
import { NewEnvelopeSchema, newEventSchema, StoredEnvelopeSchema, storedEventSchema } from '../../src/events/envelopeSchemas.js';
import { CURRENT_SCHEMA_VERSIONS, EVENT_TYPES } from '../../src/events/eventTypes.js';
import {
  checkEventData,
  checkNewEnvelope,
  checkNewEvent,
  checkStoredEnvelope,
  checkStoredEvent,
} from '../../src/events/generated/eventChecks.js';
import { EVENT_DATA_SCHEMAS } from '../../src/events/schemas.js';
import { checkHandoffPackage } from '../../src/handoff/generated/handoffCheck.js';
import { HandoffPackageSchema } from '../../src/handoff/handoffPackage.js';
import { hash } from '../../src/validation/hash.js';
import { newEvent, spoilt, storedEvent, VALID_EVENT_DATA, VALID_HANDOFF_PACKAGE } from './samples.js';

/** Every sample on which the generated check and TypeBox's run-time compiled check disagree. */
function disagreements(generated: (value: unknown) => boolean, schema: TSchema, samples: Iterable<unknown>): unknown[] {
  const compiled = TypeCompiler.Compile(schema);
  const differ: unknown[] = [];
  let valid = 0;
  let invalid = 0;
  for (const sample of samples) {
    const expected = compiled.Check(sample);
    if (expected) valid++;
    else invalid++;
    if (generated(sample) !== expected) differ.push(sample);
  }
  // A comparison that saw only one answer would prove little.
  expect(valid).toBeGreaterThan(0);
  expect(invalid).toBeGreaterThan(0);
  return differ;
}

describe('the validators generated at build time', () => {
  it('are up to date with the schemas (run npm run build when this fails)', async () => {
    for (const file of renderGeneratedFiles()) {
      expect(await readFile(file.path, 'utf8'), file.path).toBe(file.text);
    }
  });

  it('check event data exactly as TypeBox compiles it, on valid and spoilt samples', () => {
    for (const type of EVENT_TYPES) {
      expect(disagreements(checkEventData[type], EVENT_DATA_SCHEMAS[type], spoilt(VALID_EVENT_DATA[type])), type).toEqual([]);
    }
  });

  it('check whole stored and new events exactly as TypeBox compiles them', () => {
    for (const type of EVENT_TYPES) {
      const version = CURRENT_SCHEMA_VERSIONS[type];
      const data = VALID_EVENT_DATA[type];
      expect(disagreements(checkStoredEvent[type], storedEventSchema(type), spoilt(storedEvent(type, data, version))), type).toEqual([]);
      expect(disagreements(checkNewEvent[type], newEventSchema(type), spoilt(newEvent(type, data, version))), type).toEqual([]);
      expect(disagreements(checkNewEvent[type], newEventSchema(type), spoilt(newEvent(type, data))), type).toEqual([]);
      // Another type's valid event, and an older schema version.
      const other = storedEvent(type === 'TaskAdded' ? 'SessionEnded' : 'TaskAdded', data, version);
      expect(checkStoredEvent[type](other)).toBe(TypeCompiler.Compile(storedEventSchema(type)).Check(other));
      expect(checkStoredEvent[type](storedEvent(type, data, version + 1))).toBe(false);
    }
  });

  it('check envelopes exactly as TypeBox compiles them', () => {
    const data = VALID_EVENT_DATA.TaskAdded;
    expect(disagreements(checkStoredEnvelope, StoredEnvelopeSchema, spoilt(storedEvent('TaskAdded', data, 1)))).toEqual([]);
    expect(disagreements(checkNewEnvelope, NewEnvelopeSchema, spoilt(newEvent('TaskAdded', data)))).toEqual([]);
  });

  it('check the config file exactly as TypeBox compiles it', () => {
    const valid = {
      $schema: './config.schema.json',
      ...structuredClone(DEFAULT_CONFIG_DATA),
      store: { kind: 'postgres', url: 'postgres://localhost/moai', durability: 'always', lock_wait_ms: 2_000 },
    };
    valid.session.handoff.compatible_agents = { planner: ['coder', 'reviewer'], coder: [] };
    valid.models.context_windows = { 'my-model': 300_000 };
    expect(disagreements(checkConfigFile, MoaiConfigFileSchema, spoilt(valid))).toEqual([]);
  });

  it('check a handoff package exactly as TypeBox compiles it', () => {
    expect(disagreements(checkHandoffPackage, HandoffPackageSchema, spoilt(VALID_HANDOFF_PACKAGE))).toEqual([]);
    const noTask = { ...VALID_HANDOFF_PACKAGE, task_context: { ...VALID_HANDOFF_PACKAGE.task_context, current_task: null } };
    expect(disagreements(checkHandoffPackage, HandoffPackageSchema, spoilt(noTask))).toEqual([]);
  });

  it('agree with TypeBox on arbitrary values', () => {
    const pairs: [(value: unknown) => boolean, TSchema][] = [
      [checkConfigFile, MoaiConfigFileSchema],
      [checkHandoffPackage, HandoffPackageSchema],
      [checkStoredEnvelope, StoredEnvelopeSchema],
      ...EVENT_TYPES.map((type): [(value: unknown) => boolean, TSchema] => [checkEventData[type], EVENT_DATA_SCHEMAS[type]]),
    ];
    for (const [generated, schema] of pairs) {
      const compiled = TypeCompiler.Compile(schema);
      fc.assert(fc.property(fc.anything(), (value) => generated(value) === compiled.Check(value)), { numRuns: 200 });
    }
  });

  it('hash lists as TypeBox does, so uniqueItems finds the same duplicates', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withTypedArray: true, withNullPrototype: true }), (value) => {
        expect(hash(value)).toBe(Value.Hash(value));
      }),
      { numRuns: 500 },
    );
  });

  it('hash an invalid date as TypeBox does (as an object, not a date)', () => {
    for (const value of [new Date(Number.NaN), [new Date(Number.NaN)], { at: new Date(Number.NaN) }, new Date(0)]) {
      expect(hash(value)).toBe(Value.Hash(value));
    }
  });

  it('carry the defaults TypeBox builds from the schema', () => {
    expect(DEFAULT_CONFIG_DATA).toEqual(Value.Create(MoaiConfigSchema));
  });
});
