import { join } from 'node:path';

/**
 * The real files Claude Code wrote, copied byte for byte from the product's
 * shared fixtures (see SOURCES.md there) into the repository, so that a clone
 * built anywhere tests against them.
 */
export const CLAUDE_CODE_FIXTURES = join(import.meta.dirname, 'fixtures', 'claude-code');

/** The transcripts: one folder per source, each with its `.jsonl` files. */
export const TRANSCRIPT_FIXTURES = join(CLAUDE_CODE_FIXTURES, 'transcripts');

/** The hook payloads: each file a JSON array of the stdin objects Claude Code sent for one event. */
export const HOOK_FIXTURES = join(CLAUDE_CODE_FIXTURES, 'hooks');
