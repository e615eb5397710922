import { InvalidArgumentError } from '../errors.js';
import { lookUpFamily, parseModelId } from './modelIds.js';

/** The window assumed for a Claude model the table does not know: 200,000 tokens. */
export const DEFAULT_CONTEXT_WINDOW = 200_000;

/** The window of the 1M-context models, and of any model id carrying Claude Code's `[1m]` suffix. */
export const EXTENDED_CONTEXT_WINDOW = 1_000_000;

/**
 * Context windows in tokens, keyed by model family (the API id without its date suffix).
 * A dated id such as `claude-sonnet-4-5-20250929` matches its family by prefix.
 *
 * Sonnet 4.6 and Opus 4.6 list 1M here because the API serves 1M for them. Claude Code
 * compacts them at 200K unless the `[1m]` model is chosen, so an embedder tracking
 * Claude Code sessions without `[1m]` should override them to 200,000.
 */
export const CONTEXT_WINDOWS: Readonly<Record<string, number>> = Object.freeze({
  'claude-sonnet-4': 200_000,
  'claude-sonnet-4-5': 200_000,
  'claude-sonnet-4-6': 1_000_000,
  'claude-haiku-4-5': 200_000,
  'claude-opus-4': 200_000,
  'claude-opus-4-1': 200_000,
  'claude-opus-4-5': 200_000,
  'claude-opus-4-6': 1_000_000,
  // The Claude 5 generation: every model 1M (platform.claude.com model pages, 2026).
  'claude-sonnet-5': 1_000_000,
  'claude-sonnet-5-5': 1_000_000,
  'claude-haiku-5-5': 1_000_000,
  'claude-opus-5': 1_000_000,
  'claude-opus-5-5': 1_000_000,
  'claude-fable-5': 1_000_000,
  'claude-fable-5-1': 1_000_000,
  'claude-mythos-5': 1_000_000,
  'claude-mythos-5-1': 1_000_000,
});

// Claude Code's model aliases: Claude models, though their ids do not start with `claude`.
const CLAUDE_CODE_ALIASES: ReadonlySet<string> = new Set(['sonnet', 'opus', 'haiku', 'opusplan']);

function checkWindow(key: string, window: number): number {
  if (!Number.isSafeInteger(window) || window < 1) {
    throw new InvalidArgumentError(
      `The context window override for ${JSON.stringify(key)} is ${String(window)}; ` +
        `it must be a whole number of tokens of at least 1 (e.g. 200000).`,
    );
  }
  return window;
}

const TABLE: ReadonlyMap<string, number> = new Map(Object.entries(CONTEXT_WINDOWS));

/**
 * The context window of `model`, in tokens.
 *
 * Order: `overrides` (exact id, then family prefix, unless a built-in entry
 * matches the id more closely), an explicit `[1m]` suffix
 * (1,000,000), the {@link CONTEXT_WINDOWS} table (exact id, then family prefix, so
 * dated ids match), then {@link DEFAULT_CONTEXT_WINDOW} for any other Claude model.
 * An override key ending in `[1m]` applies only to ids ending in `[1m]`, and a key
 * without it only to ids without it. Matching ignores case and understands Bedrock,
 * Vertex and gateway spellings of the same id.
 *
 * @throws InvalidArgumentError for an empty id, a model that is not Claude and has
 *   no override, or an override that is not a positive whole number.
 * @example
 * contextWindowFor('claude-sonnet-4-5-20250929'); // 200000
 * contextWindowFor('claude-sonnet-4-5-20250929[1m]'); // 1000000
 * contextWindowFor('claude-opus-4-6', { 'claude-opus-4-6': 200_000 }); // 200000
 */
export function contextWindowFor(model: string, overrides?: Readonly<Record<string, number>>): number {
  const { base, extended } = parseModelId(model);
  if (base === '') {
    throw new InvalidArgumentError('The model id is empty; pass the model named in the API response, e.g. "claude-sonnet-4-5".');
  }

  if (overrides !== undefined) {
    const sameKind = new Map<string, number>();
    for (const [key, window] of Object.entries(overrides)) {
      const parsed = parseModelId(key);
      if (parsed.extended === extended) sameKind.set(parsed.base, checkWindow(key, window));
    }
    const overridden = lookUpFamily(sameKind, base);
    // An override of a family (`claude-sonnet-4`) gives way to a built-in entry
    // closer to the id (`claude-sonnet-4-5`): it is meant for that family's own ids.
    const builtIn = extended ? undefined : lookUpFamily(TABLE, base);
    if (overridden !== undefined && (builtIn === undefined || overridden.key.length >= builtIn.key.length)) return overridden.value;
  }

  if (extended) return EXTENDED_CONTEXT_WINDOW;
  const known = lookUpFamily(TABLE, base);
  if (known !== undefined) return known.value;
  if (base.startsWith('claude') || CLAUDE_CODE_ALIASES.has(base)) return DEFAULT_CONTEXT_WINDOW;

  throw new InvalidArgumentError(
    `No context window is known for model ${JSON.stringify(model)}: it is not a Claude model. ` +
      `Add it to the per-model context window overrides in the config, e.g. {"${base}": 128000}.`,
  );
}
