import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/index.js';
import { configJsonSchema } from '../../src/schemas.js';

type Node = Record<string, unknown>;
const isObject = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every schema node with its key path. */
function nodes(node: Node, path: string[] = []): [string[], Node][] {
  const out: [string[], Node][] = [[path, node]];
  for (const [key, child] of Object.entries(isObject(node['properties']) ? node['properties'] : {})) {
    if (isObject(child)) out.push(...nodes(child, [...path, key]));
  }
  for (const child of Object.values(isObject(node['patternProperties']) ? node['patternProperties'] : {})) {
    if (isObject(child)) out.push(...nodes(child, [...path, '*']));
  }
  if (isObject(node['items'])) out.push(...nodes(node['items'], [...path, '[]']));
  return out;
}

/** Every key path of a value (objects only), with its value. */
function keys(value: unknown, path: string[] = []): [string[], unknown][] {
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([key, child]): [string[], unknown][] => [
    [[...path, key], child],
    ...keys(child, [...path, key]),
  ]);
}

function at(schema: Node, path: string[]): Node | undefined {
  let node: Node | undefined = schema;
  for (const key of path) {
    const properties: unknown = node?.['properties'];
    const child: unknown = isObject(properties) ? properties[key] : undefined;
    node = isObject(child) ? child : undefined;
  }
  return node;
}

describe('configJsonSchema', () => {
  const schema = configJsonSchema();

  it('is a draft 2020-12 schema with a title', () => {
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['title']).toBe('moai-session configuration');
    expect(schema['type']).toBe('object');
  });

  it('has every key of the defaults, each with a description and its default', () => {
    const missing: string[] = [];
    for (const [path, value] of keys(DEFAULT_CONFIG)) {
      const node = at(schema, path);
      if (node === undefined || typeof node['description'] !== 'string' || node['description'] === '') {
        missing.push(`${path.join('.')} (no node or description)`);
      } else if (JSON.stringify(node['default']) !== JSON.stringify(value)) {
        missing.push(`${path.join('.')} (default ${JSON.stringify(node['default'])}, expected ${JSON.stringify(value)})`);
      }
    }
    expect(missing).toEqual([]);
    // Spot-check the documented defaults rather than only comparing against DEFAULT_CONFIG.
    expect(at(schema, ['session', 'context_budget', 'warning_threshold_percent'])?.['default']).toBe(75);
    expect(at(schema, ['session', 'context_budget', 'emergency_threshold_percent'])?.['default']).toBe(85);
    expect(at(schema, ['session', 'context_budget', 'monitor_threshold_percent'])?.['default']).toBe(60);
    expect(at(schema, ['session', 'context_budget', 'reserve_tokens'])?.['default']).toBe(55_000);
    expect(at(schema, ['session', 'handoff', 'min_available_tokens'])?.['default']).toBe(30_000);
    expect(at(schema, ['session', 'checkpoint_retention_days'])?.['default']).toBe(7);
  });

  it('describes the optional keys that have no default', () => {
    expect(at(schema, ['store', 'url'])?.['description']).toEqual(expect.stringContaining('PostgreSQL'));
    expect(at(schema, ['$schema'])?.['type']).toBe('string');
  });

  it('closes every object with additionalProperties false', () => {
    const open = nodes(schema)
      .filter(([, node]) => node['type'] === 'object' && node['additionalProperties'] !== false)
      .map(([path]) => path.join('.') || '(root)');
    expect(open).toEqual([]);
  });

  it('requires no key, since every key has a default', () => {
    expect(nodes(schema).filter(([, node]) => 'required' in node).map(([path]) => path.join('.'))).toEqual([]);
  });

  it('lists the allowed values of enumerated keys', () => {
    expect(at(schema, ['session', 'recovery_strategy'])?.['enum']).toEqual([
      'progressive_summarization',
      'checkpoint_only',
      'full_replay',
    ]);
    expect(at(schema, ['store', 'kind'])?.['enum']).toEqual(['file', 'postgres']);
    expect(at(schema, ['store', 'durability'])?.['enum']).toEqual(['always', 'batch', 'none']);
  });

  it('is plain JSON: no TypeBox symbol keys, survives a round trip unchanged', () => {
    expect(nodes(schema).flatMap(([, node]) => Object.getOwnPropertySymbols(node))).toEqual([]);
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it('returns a new object each call', () => {
    const first = configJsonSchema();
    first['title'] = 'changed';
    expect(configJsonSchema()['title']).toBe('moai-session configuration');
  });
});
