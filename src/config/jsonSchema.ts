import { DEFAULT_CONFIG, MoaiConfigFileSchema } from './schema.js';

/** The JSON Schema dialect of {@link configJsonSchema}. */
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

type Node = Record<string, unknown>;

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);

function defaultAt(path: readonly string[]): unknown {
  let value: unknown = DEFAULT_CONFIG;
  for (const key of path) value = isNode(value) && Object.hasOwn(value, key) ? value[key] : undefined;
  return value;
}

function finish(node: Node, path: readonly string[]): Node {
  // Every key of the file is optional (missing keys take their defaults), so nothing is `required`.
  const { required: _required, anyOf, ...rest } = node;
  let out: Node = rest;
  if (Array.isArray(anyOf)) {
    const options = anyOf.filter(isNode);
    out =
      options.length === anyOf.length && options.every((option) => 'const' in option)
        ? { type: 'string', enum: options.map((option) => option['const']), ...rest }
        : { anyOf: options.map((option) => finish(option, path)), ...rest };
  }
  if (out['type'] === 'object' && path.length > 0 && !('default' in out)) {
    const value = defaultAt(path);
    if (value !== undefined) out['default'] = value;
  }
  if (isNode(out['properties'])) {
    out['properties'] = Object.fromEntries(
      Object.entries(out['properties']).map(([key, child]) => [key, isNode(child) ? finish(child, [...path, key]) : child]),
    );
  }
  if (isNode(out['patternProperties'])) {
    out['patternProperties'] = Object.fromEntries(
      Object.entries(out['patternProperties']).map(([key, child]) => [key, isNode(child) ? finish(child, []) : child]),
    );
  }
  if (isNode(out['items'])) out['items'] = finish(out['items'], []);
  return out;
}

/**
 * The JSON Schema (draft 2020-12) of `.moai/config/config.json`, generated from
 * the same TypeBox definition the loader validates with: every key with its
 * description and default, `additionalProperties: false` on every object, no
 * key required. Editors use it through the file's `"$schema"` key; the CLI
 * writes it with `moai-session config schema`.
 *
 * @example
 * writeFileSync('.moai/config/config.schema.json', JSON.stringify(configJsonSchema(), null, 2) + '\n');
 */
export function configJsonSchema(): Record<string, unknown> {
  // The JSON round trip drops TypeBox's symbol keys ([Kind], [OptionalKind]).
  const plain = JSON.parse(JSON.stringify(MoaiConfigFileSchema)) as Node;
  return { $schema: JSON_SCHEMA_DIALECT, ...finish(plain, []) };
}
