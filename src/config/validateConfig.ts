import { closestName } from '../util/suggest.js';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { ConfigError, type ConfigIssue } from './configError.js';
import { formatKeyPath, pointerSegments } from './keyPath.js';
import { DEFAULT_CONFIG, MoaiConfigFileSchema, type MoaiConfig, type MoaiConfigFile } from './schema.js';

/*
 * The checks behind `parseConfig` and `loadConfig`: merge over the defaults,
 * check against the schema, apply a store URL from the environment, then the
 * rules that tie keys together. Messages are written here from the error path
 * and the schema node, not taken from TypeBox. Internal to the config module.
 */

const fileCheck = TypeCompiler.Compile(MoaiConfigFileSchema);

/** A store URL given outside the file (`MOAI_STORE_URL`), which replaces `store.kind` and `store.url`. */
export interface StoreUrlOverride {
  readonly url: string;
  /** Where it came from, for messages: `MOAI_STORE_URL`. */
  readonly from: string;
}

type Json = Record<string, unknown>;

/** A JSON Schema node as TypeBox builds it, seen through the keywords this module reads. */
interface SchemaNode {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly patternProperties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
  readonly anyOf?: readonly SchemaNode[];
  readonly const?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
}

const isPlainObject = (value: unknown): value is Json => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

const own = (value: Json, key: string): unknown => (Object.hasOwn(value, key) ? value[key] : undefined);

function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (isPlainObject(value)) return Object.fromEntries(Object.keys(value).map((key) => [key, copy(value[key])]));
  return value;
}

/** `override` over `base`, recursively for objects; lists and other values replace. Copies both. */
function mergeOver(base: unknown, override: unknown): unknown {
  if (override === undefined) return copy(base);
  if (isPlainObject(base) && isPlainObject(override)) {
    const keys = new Set([...Object.keys(base), ...Object.keys(override)]);
    // fromEntries defines own properties, so a "__proto__" key stays a key (and is reported as unknown).
    return Object.fromEntries([...keys].map((key) => [key, mergeOver(own(base, key), own(override, key))]));
  }
  return copy(override);
}

// What is allowed, where the schema alone would say too little. Keys are schema
// paths, with `*` for a map key or a list index.
const AGENT_NAME = 'an agent name (letters, digits and . _ : -, starting with a letter or a digit, at most 200 characters)';
const ALLOWED_HINTS: Readonly<Record<string, string>> = {
  $schema: 'a string: the path or URL of the JSON Schema, e.g. "./config.schema.json"',
  'store.url': 'a postgres:// or postgresql:// URL, e.g. "postgres://user:password@localhost:5432/moai"',
  'session.handoff.compatible_agents':
    'an object mapping agent names to the agents each may hand to, e.g. { "planner": ["coder", "reviewer"] }',
  'session.handoff.compatible_agents.*': 'a list of agent names, each listed once, e.g. ["coder", "reviewer"]',
  'session.handoff.compatible_agents.*.*': AGENT_NAME,
  'models.context_windows': 'an object mapping model ids to context windows in tokens, e.g. { "my-model": 200000 }',
};
const MAP_KEY_HINTS: Readonly<Record<string, string>> = {
  'session.handoff.compatible_agents': AGENT_NAME,
  'models.context_windows': 'a model id (1 to 200 characters, no whitespace)',
};

interface Located {
  /** The schema node at the path, if the path exists in the schema. */
  readonly node: SchemaNode | undefined;
  /** Segments for display: list indexes as numbers. */
  readonly segments: (string | number)[];
  /** The schema path with `*` for map keys and list indexes, for the hint tables. */
  readonly pattern: string;
}

function locate(rawSegments: readonly string[]): Located {
  let node: SchemaNode | undefined = MoaiConfigFileSchema as SchemaNode;
  const segments: (string | number)[] = [];
  const pattern: string[] = [];
  for (const segment of rawSegments) {
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

/** What a value at `node` may be, as a phrase: "an integer from 1 to 100", "one of "file", "postgres"". */
function allowed(node: SchemaNode | undefined, pattern: string): string {
  const hint = ALLOWED_HINTS[pattern];
  if (hint !== undefined) return hint;
  if (node === undefined) return 'absent';
  if (node.anyOf !== undefined && node.anyOf.every((option) => option.const !== undefined)) {
    return `one of ${node.anyOf.map((option) => JSON.stringify(option.const)).join(', ')}`;
  }
  switch (node.type) {
    case 'boolean':
      return 'true or false';
    case 'integer':
      return range('an integer', node);
    case 'number':
      return range('a number', node);
    case 'string':
      return 'a string';
    case 'array':
      return 'a list';
    case 'object':
      return node.properties === undefined
        ? 'an object'
        : `an object with the keys ${Object.keys(node.properties).join(', ')}`;
    default:
      return 'a valid value';
  }
}

/** Hide the password of a URL before it goes into a message. */
const redact = (text: string): string => text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/, '$1****@');

/** A value as a message shows it: JSON, shortened, passwords hidden, strings that look like numbers flagged. */
function show(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return `${value} (a bigint)`;
  let text = JSON.stringify(value) ?? String(value);
  if (typeof value === 'string') text = redact(text.slice(1, -1));
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  if (typeof value !== 'string') return text;
  const quoted = `"${text}"`;
  return /^(-?\d+(\.\d+)?|true|false)$/.test(value) ? `${quoted} (text in quotes)` : quoted;
}

/** The allowed key an unknown key was most likely meant to be, when that is clear. */
function closestKey(key: string, candidates: readonly string[]): string | undefined {
  return closestName(key, candidates, key.length < 8 ? 1 : Math.min(4, Math.floor(key.length / 5)));
}

/** Every object key of the schema with its parent path, to say where a key in the wrong place belongs. */
function keyHomes(): Map<string, string[]> {
  const homes = new Map<string, string[]>();
  const visit = (node: SchemaNode, path: string[]) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      homes.set(key, [...(homes.get(key) ?? []), formatKeyPath(path)]);
      visit(child, [...path, key]);
    }
  };
  visit(MoaiConfigFileSchema as SchemaNode, []);
  return homes;
}
const KEY_HOMES = keyHomes();

function unknownKeyIssue(parentRaw: readonly string[], key: string): ConfigIssue {
  const parent = locate(parentRaw);
  const where = formatKeyPath([...parent.segments, key]);
  const parentName = formatKeyPath(parent.segments);
  const properties = parent.node?.properties;
  if (properties === undefined) {
    // A map (compatible_agents, context_windows) whose key does not have the allowed form.
    const keyHint = MAP_KEY_HINTS[parent.pattern] ?? 'a valid key';
    return {
      key: where,
      message: `${parentName} has the key ${JSON.stringify(key)}, but each key must be ${keyHint}.`,
    };
  }
  const allowedKeys = Object.keys(properties);
  const suggestion = closestKey(key, allowedKeys);
  const homes = (KEY_HOMES.get(key) ?? []).filter((home) => home !== parentName);
  const hint =
    suggestion !== undefined
      ? ` Did you mean ${suggestion}?`
      : homes.length > 0
        ? ` ${key} belongs in ${homes.map((home) => home || 'the top level').join(' or ')}.`
        : '';
  return {
    key: where,
    message:
      `Unknown key ${where}.${hint} ` +
      `The keys allowed ${parentName === '' ? 'at the top level' : `in ${parentName}`} are: ${allowedKeys.join(', ')}.`,
  };
}

function schemaIssue(error: ValueError): ConfigIssue {
  const raw = pointerSegments(error.path);
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    return unknownKeyIssue(raw.slice(0, -1), raw[raw.length - 1] ?? '');
  }
  const { node, segments, pattern } = locate(raw);
  const key = formatKeyPath(segments);
  const name = key === '' ? 'The configuration' : key;
  if (error.type === ValueErrorType.ObjectRequiredProperty) {
    return { key, message: `${name} is missing; it must be ${allowed(node, pattern)}.` };
  }
  if (error.type === ValueErrorType.ArrayUniqueItems) {
    return { key, message: `${name} is ${show(error.value)}, which names an agent more than once; list each once.` };
  }
  return { key, message: `${name} is ${show(error.value)}, but it must be ${allowed(node, pattern)}.` };
}

/** Why `url` cannot be a PostgreSQL store URL, or undefined when it can. */
export function postgresUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'it is not a URL';
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    return `its scheme is ${parsed.protocol.slice(0, -1) || 'missing'}, not postgres or postgresql`;
  }
  if (parsed.hostname === '') return 'it names no host';
  return undefined;
}

const round = (value: number): number => Math.round(value * 1e6) / 1e6;

function crossFieldIssues(config: MoaiConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const budget = config.session.context_budget;
  const prefix = 'session.context_budget';
  if (budget.monitor_threshold_percent >= budget.warning_threshold_percent) {
    issues.push({
      key: `${prefix}.monitor_threshold_percent`,
      message:
        `${prefix}.monitor_threshold_percent is ${budget.monitor_threshold_percent}, but it must be below ` +
        `warning_threshold_percent (${budget.warning_threshold_percent}): the thresholds fire in the order monitor, warning, emergency.`,
    });
  }
  if (budget.warning_threshold_percent >= budget.emergency_threshold_percent) {
    issues.push({
      key: `${prefix}.warning_threshold_percent`,
      message:
        `${prefix}.warning_threshold_percent is ${budget.warning_threshold_percent}, but it must be below ` +
        `emergency_threshold_percent (${budget.emergency_threshold_percent}): the thresholds fire in the order monitor, warning, emergency.`,
    });
  }
  if (budget.reserve_tokens < 0) {
    // The schema already refuses this; kept so the rule holds for any caller of this check.
    issues.push({
      key: `${prefix}.reserve_tokens`,
      message: `${prefix}.reserve_tokens is ${budget.reserve_tokens}, but it must be an integer of at least 0.`,
    });
  }
  const { system, conversation, reference, reserve } = budget.allocation;
  const sum = system + conversation + reference + reserve;
  if (Math.abs(sum - 100) > 0.01) {
    issues.push({
      key: `${prefix}.allocation`,
      message:
        `The shares in ${prefix}.allocation add up to ${round(sum)} (system ${system} + conversation ${conversation} + ` +
        `reference ${reference} + reserve ${reserve}), but they must add up to 100.`,
    });
  }
  const store = config.store;
  if (store.kind === 'postgres' && store.url === undefined) {
    issues.push({
      key: 'store.url',
      message: 'store.kind is "postgres", but store.url is not set: set store.url to a postgres:// URL, or set MOAI_STORE_URL.',
    });
  }
  if (store.kind === 'file' && store.url !== undefined) {
    issues.push({
      key: 'store.url',
      message: `store.url is set, but store.kind is "file": set store.kind to "postgres" to use the database, or remove store.url.`,
    });
  }
  if (store.url !== undefined) {
    const problem = postgresUrlProblem(store.url);
    if (problem !== undefined) {
      issues.push({
        key: 'store.url',
        message: `store.url is ${show(store.url)}, but ${problem}; it must be ${ALLOWED_HINTS['store.url']}.`,
      });
    }
  }
  return issues;
}

/** Throw a {@link ConfigError} naming `override.from` unless its URL can be a PostgreSQL store URL. */
export function checkStoreUrlOverride(override: StoreUrlOverride): void {
  const problem = postgresUrlProblem(override.url);
  if (problem !== undefined) {
    throw new ConfigError(override.from, [
      {
        key: override.from,
        message:
          `${override.from} is ${show(override.url)}, but ${problem}; it must be ${ALLOWED_HINTS['store.url']}. ` +
          `Unset it to use the store named in the config file.`,
      },
    ]);
  }
}

/**
 * Check a parsed configuration document: merge it over the defaults, check it
 * against the schema, apply `storeUrl` if given, then the rules that tie keys
 * together. Returns a fresh object without the `$schema` key; throws a
 * {@link ConfigError} listing every problem.
 */
export function checkConfig(value: unknown, source: string, storeUrl?: StoreUrlOverride): MoaiConfig {
  if (!isPlainObject(value)) {
    const kind = Array.isArray(value) ? 'a list' : value === null ? 'null' : `${show(value)}`;
    throw new ConfigError(source, [
      { key: '', message: `the configuration must be a JSON object ({ ... }), but it is ${kind}.` },
    ]);
  }
  const merged = mergeOver(DEFAULT_CONFIG, value);
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of fileCheck.Errors(merged)) {
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    issues.push(schemaIssue(error));
  }
  if (issues.length > 0) throw new ConfigError(source, issues);

  const { $schema: _schema, ...config } = merged as MoaiConfigFile;
  if (storeUrl !== undefined) {
    checkStoreUrlOverride(storeUrl);
    config.store = { ...config.store, kind: 'postgres', url: storeUrl.url };
  }
  const crossIssues = crossFieldIssues(config);
  if (crossIssues.length > 0) throw new ConfigError(source, crossIssues);
  return config;
}
