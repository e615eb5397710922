import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLAUDE_CODE_FIXTURES } from '../claudeCodeFixtures.js';

const SHARED = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'claude-code');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

if (!existsSync(SHARED)) console.warn(`Fixture comparison skipped: no shared fixtures at ${SHARED} (they sit beside the repository in the development checkout).`);

describe("the repository's copy of the Claude Code fixtures", () => {
  it.skipIf(!existsSync(SHARED))('is byte for byte the shared fixtures (where they are beside the repository)', () => {
    const shared = files(SHARED).map((f) => relative(SHARED, f)).sort();
    expect(files(CLAUDE_CODE_FIXTURES).map((f) => relative(CLAUDE_CODE_FIXTURES, f)).sort()).toEqual(shared);
    for (const file of shared) expect(readFileSync(join(CLAUDE_CODE_FIXTURES, file)).equals(readFileSync(join(SHARED, file))), file).toBe(true);
  });
});
