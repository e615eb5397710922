import { createRequire } from 'node:module';
import type * as TypeBoxErrors from '@sinclair/typebox/errors';
import type { TSchema } from '@sinclair/typebox';
import { describeValue } from '../util/describeValue.js';
import { closestName } from '../util/suggest.js';
import { ID_PATTERN_SOURCE, MAX_ID_LENGTH } from './ids.js';
import { formatPath, pointerSegments } from './paths.js';

/*
 * The one schema-error explainer: it turns what is wrong with a value,
 * against a TypeBox schema, into sentences that name the path, the value and
 * what is allowed. The config, the handoff package and the events use it.
 *
 * Valid values never come here: each validator runs a check generated at
 * build time first, and only a value that fails it is explained. TypeBox's
 * error walk is loaded then, and synchronously (the validators are
 * synchronous), so a valid value never loads TypeBox.
 */

let typebox: typeof TypeBoxErrors | undefined;

function typeboxErrors(): typeof TypeBoxErrors {
  typebox ??= createRequire(import.meta.url)('@sinclair/typebox/errors') as typeof TypeBoxErrors;
  return typebox;
}

/** A JSON Schema as data, TypeBox's symbol keys (`Symbol.for('TypeBox.Kind')`) included, as the generated modules hold it. */
export type JsonSchema = { readonly [key: string]: unknown };

/** A JSON Schema node as TypeBox builds it, seen through the keywords the explainer reads. */
export interface SchemaNode {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly patternProperties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly items?: SchemaNode;
  readonly anyOf?: readonly SchemaNode[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly maxItems?: number;
}

/** What kind of thing is wrong: a missing key, a key the schema does not have, a list with an item twice, a wrong value. */
export type SchemaProblemKind = 'missing' | 'unknown-key' | 'duplicate-items' | 'invalid';

/** One thing wrong with a value, explained. */
export interface SchemaProblem {
  readonly kind: SchemaProblemKind;
  /** The readable path of what is wrong (`session.handoff.compatible_agents.planner[0]`), without the prefix; `''` for the whole value. */
  readonly path: string;
  /** The value found there (undefined when missing). */
  readonly value: unknown;
  /** A full sentence: the path, the value given and what is allowed. */
  readonly message: string;
}

/** How {@link explainSchemaErrors} words its sentences for one kind of document. */
export interface ExplainOptions {
  /** What the value as a whole is called, for a problem with all of it: "The configuration". */
  readonly documentName: string;
  /** What the document's names are called: "key" (a config file) or "field" (a handoff package, an event). */
  readonly noun: 'key' | 'field';
  /** Segments shown before every path (`['data']` for an event's data). */
  readonly prefix?: readonly string[];
  /**
   * What is allowed at a path where the schema alone says too little. Keys
   * are paths with `*` for a map key or a list index: `session.handoff.compatible_agents.*.*`.
   */
  readonly allowed?: Readonly<Record<string, string>>;
  /** What the keys of a map must be, by the map's path (same form as `allowed`). */
  readonly mapKeys?: Readonly<Record<string, string>>;
  /** How a list with an item twice is described, by path: "which names an agent more than once". */
  readonly duplicates?: Readonly<Record<string, string>>;
  /** Explain at most this many problems (an event's message names only the first). */
  readonly limit?: number;
}

interface Located {
  /** The schema node at the path, when the schema has the path. */
  readonly node: SchemaNode | undefined;
  /** Segments for display: list indexes as numbers. */
  readonly segments: (string | number)[];
  /** The path with `*` for map keys and list indexes, for the hint tables. */
  readonly pattern: string;
}

// The object branch of a nullable object (`current_task`), the one a present object is checked against.
function objectBranch(node: SchemaNode | undefined): SchemaNode | undefined {
  const branches = (node?.anyOf ?? []).filter((branch) => branch.type === 'object');
  return branches.length === 1 ? branches[0] : undefined;
}

function locate(root: SchemaNode, rawSegments: readonly string[]): Located {
  let node: SchemaNode | undefined = root;
  const segments: (string | number)[] = [];
  const pattern: string[] = [];
  for (const segment of rawSegments) {
    node = objectBranch(node) ?? node;
    if (node?.properties !== undefined && Object.hasOwn(node.properties, segment)) {
      node = node.properties[segment];
      segments.push(segment);
      pattern.push(segment);
    } else if (node?.patternProperties !== undefined) {
      node = Object.values(node.patternProperties)[0];
      segments.push(segment);
      pattern.push('*');
    } else if (node?.items !== undefined && /^\d+$/.test(segment)) {
      node = node.items;
      segments.push(Number(segment));
      pattern.push('*');
    } else {
      node = undefined;
      segments.push(segment);
      pattern.push(segment);
    }
  }
  return { node, segments, pattern: pattern.join('.') };
}

function range(noun: string, node: SchemaNode): string {
  const { minimum, maximum } = node;
  if (minimum !== undefined && maximum !== undefined) return `${noun} from ${minimum} to ${maximum}`;
  if (minimum !== undefined) return `${noun} of at least ${minimum}`;
  if (maximum !== undefined) return `${noun} of at most ${maximum}`;
  return noun;
}

/** The names of an object schema's properties, optional ones marked `?`: `{ id, title, phase? }`. */
export function describeFields(node: SchemaNode): string {
  const required = new Set(node.required ?? []);
  const names = Object.keys(node.properties ?? {}).map((key) => (required.has(key) ? key : `${key}?`));
  return `{ ${names.join(', ')} }`;
}

const ID_PHRASE = `an id: 1 to ${MAX_ID_LENGTH} letters, digits, dots, colons, underscores or dashes, starting with a letter or digit`;

/**
 * What a schema node allows, as a phrase that fits after "it must be": "an
 * integer from 1 to 100", "one of "file", "postgres"", "an id: ...".
 */
export function describeAllowed(node: SchemaNode | undefined, noun: 'key' | 'field' = 'field'): string {
  if (node === undefined) return 'absent';
  if (node.anyOf !== undefined) {
    if (node.anyOf.length > 0 && node.anyOf.every((option) => option.const !== undefined)) {
      return `one of ${node.anyOf.map((option) => JSON.stringify(option.const)).join(', ')}`;
    }
    return node.anyOf.map((option) => describeAllowed(option, noun)).join(' or ');
  }
  switch (node.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return 'true or false';
    case 'integer':
      return range('an integer', node);
    case 'number':
      return range('a number', node);
    case 'string': {
      if (node.pattern === ID_PATTERN_SOURCE) return ID_PHRASE;
      if (node.pattern !== undefined) return `a string matching ${node.pattern}`;
      const length = node.maxLength === undefined ? '' : ` of at most ${node.maxLength} characters`;
      return (node.minLength ?? 0) > 0 ? `a non-empty string${length}` : `a string${length}`;
    }
    case 'array': {
      const most = node.maxItems === undefined ? '' : ` of at most ${node.maxItems} items`;
      return node.items === undefined ? `a list${most}` : `a list${most}, each ${describeAllowed(node.items, noun)}`;
    }
    case 'object':
      return node.properties === undefined ? 'an object' : `an object with the ${noun}s ${describeFields(node)}`;
    default:
      return 'a valid value';
  }
}

// Every object key of a schema with the paths of the objects that have it, to say where a misplaced key belongs.
const homesOf = new WeakMap<SchemaNode, Map<string, string[]>>();

function keyHomes(root: SchemaNode): Map<string, string[]> {
  let homes = homesOf.get(root);
  if (homes === undefined) {
    const found = new Map<string, string[]>();
    const visit = (node: SchemaNode, path: string[]) => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        found.set(key, [...(found.get(key) ?? []), formatPath(path)]);
        visit(child, [...path, key]);
      }
    };
    visit(root, []);
    homes = found;
    homesOf.set(root, homes);
  }
  return homes;
}

/** The allowed name an unknown one was most likely meant to be, when that is clear. */
const closestKey = (key: string, candidates: readonly string[]): string | undefined =>
  closestName(key, candidates, key.length < 8 ? 1 : Math.min(4, Math.floor(key.length / 5)));

class Explainer {
  constructor(
    private readonly root: SchemaNode,
    private readonly options: ExplainOptions,
    private readonly types: typeof TypeBoxErrors.ValueErrorType,
  ) {}

  private name(segments: readonly (string | number)[]): string {
    const path = formatPath([...(this.options.prefix ?? []), ...segments]);
    return path === '' ? this.options.documentName : path;
  }

  private allowed(node: SchemaNode | undefined, pattern: string): string {
    return this.options.allowed?.[pattern] ?? describeAllowed(node, this.options.noun);
  }

  private unknownKey(parentRaw: readonly string[], key: string, value: unknown): SchemaProblem {
    const { noun } = this.options;
    const parent = locate(this.root, parentRaw);
    const path = formatPath([...parent.segments, key]);
    const where = this.name([...parent.segments, key]);
    const parentName = formatPath([...(this.options.prefix ?? []), ...parent.segments]);
    const parentNode = objectBranch(parent.node) ?? parent.node;
    const properties = parentNode?.properties;
    if (properties === undefined) {
      // A map (compatible_agents, context_windows) whose key does not have the allowed form.
      const keyHint = this.options.mapKeys?.[parent.pattern] ?? `a valid ${noun}`;
      return {
        kind: 'unknown-key',
        path,
        value,
        message: `${this.name(parent.segments)} has the ${noun} ${describeValue(key)}, but each ${noun} must be ${keyHint}.`,
      };
    }
    const allowedKeys = Object.keys(properties);
    const suggestion = closestKey(key, allowedKeys);
    const homes = (keyHomes(this.root).get(key) ?? []).filter((home) => home !== formatPath(parent.segments));
    const hint =
      suggestion !== undefined
        ? ` Did you mean ${suggestion}?`
        : homes.length > 0
          ? ` ${key} belongs in ${homes.map((home) => home || 'the top level').join(' or ')}.`
          : '';
    return {
      kind: 'unknown-key',
      path,
      value,
      message:
        `Unknown ${noun} ${where}.${hint} ` +
        `The ${noun}s allowed ${parentName === '' ? 'at the top level' : `in ${parentName}`} are: ${allowedKeys.join(', ')}.`,
    };
  }

  explain(error: TypeBoxErrors.ValueError, pointer: string): SchemaProblem {
    const raw = pointerSegments(pointer);
    if (error.type === this.types.ObjectAdditionalProperties) {
      return this.unknownKey(raw.slice(0, -1), raw[raw.length - 1] ?? '', error.value);
    }
    const { segments, pattern } = locate(this.root, raw);
    const path = formatPath(segments);
    const name = this.name(segments);
    const node = error.schema as SchemaNode;
    if (error.type === this.types.ObjectRequiredProperty) {
      return { kind: 'missing', path, value: undefined, message: `${name} is missing; it must be ${this.allowed(node, pattern)}.` };
    }
    if (error.type === this.types.ArrayUniqueItems) {
      const repeats = this.options.duplicates?.[pattern] ?? 'which lists an item more than once';
      return {
        kind: 'duplicate-items',
        path,
        value: error.value,
        message: `${name} is ${describeValue(error.value)}, ${repeats}; list each once.`,
      };
    }
    return {
      kind: 'invalid',
      path,
      value: error.value,
      message: `${name} is ${describeValue(error.value)}, but it must be ${this.allowed(node, pattern)}.`,
    };
  }
}

/**
 * Explain why `value` does not match `schema`: one {@link SchemaProblem} per
 * path, in the order TypeBox finds them (a missing key once, not again as a
 * wrong type). A present object where an object or null is allowed is
 * explained from inside the object. Call it only for a value its check
 * refused; an empty list means the value matches.
 *
 * @example
 * explainSchemaErrors(configFileSchema(), merged, { documentName: 'The configuration', noun: 'key' })
 *   .map((problem) => problem.message);
 * // ['session.forking_enabled is "yes", but it must be true or false.']
 */
export function explainSchemaErrors(schema: JsonSchema | SchemaNode, value: unknown, options: ExplainOptions): SchemaProblem[] {
  const { Errors, ValueErrorType } = typeboxErrors();
  const root = schema as SchemaNode;
  const explainer = new Explainer(root, options, ValueErrorType);
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  const limit = options.limit ?? Number.POSITIVE_INFINITY;

  const walk = (node: SchemaNode, at: unknown, prefix: string): boolean => {
    for (const error of Errors(node as TSchema, [], at)) {
      const pointer = prefix + error.path;
      const branch = error.type === ValueErrorType.Union && isPlainObject(error.value) ? objectBranch(error.schema as SchemaNode) : undefined;
      if (branch !== undefined) {
        if (!walk(branch, error.value, pointer)) return false;
        continue;
      }
      if (seen.has(pointer)) continue;
      seen.add(pointer);
      problems.push(explainer.explain(error, pointer));
      if (problems.length >= limit) return false;
    }
    return true;
  };
  walk(root, value, '');
  return problems;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
