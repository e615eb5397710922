import { describeValue } from '../util/describeValue.js';
import { explainSchemaErrors, type ExplainOptions } from '../validation/explainSchemaErrors.js';
import { idRule } from '../validation/ids.js';
import { DEFAULT_JSON_LIMITS, valueDepthExceeds } from '../validation/jsonText.js';
import { ConfigError, type ConfigIssue } from './configError.js';
import { DEFAULT_CONFIG } from './defaultConfig.js';
import { checkConfigFile, configFileSchema } from './generated/configCheck.js';
import type { MoaiConfig, MoaiConfigFile } from './schema.js';

/*
 * The checks behind `parseConfig` and `loadConfig`: merge over the defaults,
 * check against the schema (with the check `npm run build` generated: no
 * TypeBox for a valid config), apply a store URL from the environment, then
 * the rules that tie keys together. A config that fails the schema is
 * explained by the shared explainer, with the hints below. Internal to the
 * config module.
 */

/** A store URL given outside the file (`MOAI_STORE_URL`), which replaces `store.kind` and `store.url`. */
export interface StoreUrlOverride {
  readonly url: string;
  /** Where it came from, for messages: `MOAI_STORE_URL`. */
  readonly from: string;
}

type Json = Record<string, unknown>;

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
const AGENT_NAME = `an agent name (${idRule('agent')})`;
const STORE_URL = 'a postgres:// or postgresql:// URL, e.g. "postgres://user:password@localhost:5432/moai"';
const EXPLAIN: ExplainOptions = {
  documentName: 'The configuration',
  noun: 'key',
  allowed: {
    $schema: 'a string: the path or URL of the JSON Schema, e.g. "./config.schema.json"',
    'store.url': STORE_URL,
    'session.handoff.compatible_agents':
      'an object mapping agent names to the agents each may hand to, e.g. { "planner": ["coder", "reviewer"] }',
    'session.handoff.compatible_agents.*': 'a list of agent names, each listed once, e.g. ["coder", "reviewer"]',
    'session.handoff.compatible_agents.*.*': AGENT_NAME,
    'models.context_windows': 'an object mapping model ids to context windows in tokens, e.g. { "my-model": 200000 }',
  },
  mapKeys: {
    'session.handoff.compatible_agents': AGENT_NAME,
    'models.context_windows': 'a model id (1 to 200 characters, no whitespace)',
  },
  duplicates: { 'session.handoff.compatible_agents.*': 'which names an agent more than once' },
};

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
        message: `store.url is ${describeValue(store.url)}, but ${problem}; it must be ${STORE_URL}.`,
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
          `${override.from} is ${describeValue(override.url)}, but ${problem}; it must be ${STORE_URL}. ` +
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
    const kind = Array.isArray(value) ? 'a list' : value === null ? 'null' : `${describeValue(value)}`;
    throw new ConfigError(source, [
      { key: '', message: `the configuration must be a JSON object ({ ... }), but it is ${kind}.` },
    ]);
  }
  // A document from outside may be nested deeper than the merge below can recurse.
  if (valueDepthExceeds(value, DEFAULT_JSON_LIMITS.maxDepth)) {
    throw new ConfigError(source, [
      {
        key: '',
        message: `the configuration is nested more than ${DEFAULT_JSON_LIMITS.maxDepth} levels deep: this cannot be a moai-session configuration.`,
      },
    ]);
  }
  const merged = mergeOver(DEFAULT_CONFIG, value);
  if (!checkConfigFile(merged)) {
    const problems = explainSchemaErrors(configFileSchema(), merged, EXPLAIN);
    throw new ConfigError(
      source,
      problems.length > 0
        ? problems.map((problem) => ({ key: problem.path, message: problem.message }))
        : [{ key: '', message: 'the configuration does not match its schema.' }],
    );
  }

  const { $schema: _schema, ...config } = merged as MoaiConfigFile;
  if (storeUrl !== undefined) {
    checkStoreUrlOverride(storeUrl);
    config.store = { ...config.store, kind: 'postgres', url: storeUrl.url };
  }
  const crossIssues = crossFieldIssues(config);
  if (crossIssues.length > 0) throw new ConfigError(source, crossIssues);
  return config;
}
