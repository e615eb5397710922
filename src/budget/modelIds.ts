/** The suffix Claude Code gives the id of a model run with its 1M context window. */
export const EXTENDED_SUFFIX = '[1m]';

/** A model id reduced to the first-party form, and whether it carried `[1m]`. */
export interface ParsedModelId {
  /** The id reduced to the first-party form: lower case, no provider prefix or version suffix. */
  readonly base: string;
  /** True when the id carried `[1m]`. */
  readonly extended: boolean;
}

/**
 * Bring the spellings of the same model on different platforms to the
 * first-party id: `us.anthropic.claude-sonnet-4-5-20250929-v1:0` (Bedrock),
 * `claude-sonnet-4-5@20250929` (Vertex) and `anthropic/claude-sonnet-4.5`
 * (gateways) all become `claude-sonnet-4-5[-date]`.
 */
export function parseModelId(model: string): ParsedModelId {
  let id = model.trim().toLowerCase();
  const extended = id.endsWith(EXTENDED_SUFFIX);
  if (extended) id = id.slice(0, -EXTENDED_SUFFIX.length);
  id = id
    .replace(/^(?:[a-z]{2,7}\.)?anthropic[./]/, '')
    .replace(/-v\d+(?::\d+)?$/, '')
    .replace(/@(\d{8})$/, '-$1')
    .replace(/(\d)\.(\d)/g, '$1-$2');
  return { base: id, extended };
}

/**
 * The entry of a table of model families for an id: the exact id first, then
 * the longest key that is a family prefix of it (`key-...`), so a dated id
 * (`claude-sonnet-5-5-20261001`) finds its family and never a neighbour's
 * (`claude-sonnet-5`).
 */
export function lookUpFamily<T>(table: ReadonlyMap<string, T>, id: string): { key: string; value: T } | undefined {
  const exact = table.get(id);
  if (exact !== undefined) return { key: id, value: exact };
  let best: { key: string; value: T } | undefined;
  for (const [key, value] of table) {
    if (id.startsWith(`${key}-`) && (best === undefined || key.length > best.key.length)) best = { key, value };
  }
  return best;
}
