import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { isConfigError, type ConfigError } from '../../src/config/configError.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { parseConfig } from '../../src/config/parseConfig.js';
import { isInvalidArgumentError } from '../../src/errors.js';
import { parseHandoffPackageText } from '../../src/handoff/parseHandoffPackageText.js';
import { validateHandoffPackage } from '../../src/handoff/validateHandoffPackage.js';
import { jsonNestingDepth, parseJsonText, valueDepthExceeds } from '../../src/validation/jsonText.js';
import { tempMoaiDir, thrown, writeConfigFile } from '../config/helpers.js';

const nested = (levels: number, inner = '1') => `${'{"a":'.repeat(levels)}${inner}${'}'.repeat(levels)}`;

const deepValue = (levels: number): unknown => {
  const root: Record<string, unknown> = {};
  let node = root;
  for (let i = 1; i < levels; i++) {
    const child: Record<string, unknown> = {};
    node['a'] = child;
    node = child;
  }
  return root;
};

describe('JSON read from outside, within bounds', () => {
  it('measures nesting without a stack, skipping brackets in strings', () => {
    expect(jsonNestingDepth('{"a":[1,{"b":"[[[{"}]}', 64)).toEqual({ depth: 3, firstTooDeep: undefined });
    expect(jsonNestingDepth('["\\"[", [[]]]', 2)).toEqual({ depth: 3, firstTooDeep: 9 });
    expect(jsonNestingDepth(nested(100_000), 64).depth).toBe(100_000);
  });

  it('refuses a document deeper than the bound, naming the depth, the bound and where', () => {
    const result = parseJsonText(`{\n  "x": ${nested(70)}\n}`, { maxDepth: 64 });
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          kind: 'too-deep',
          reason: 'the document is nested 71 levels deep, more than the 64 levels allowed',
          line: 2,
          column: 8 + 5 * 63,
        },
      ],
    });
    expect(parseJsonText(nested(63)).ok).toBe(true);
  });

  it('refuses a document bigger than the bound', () => {
    const result = parseJsonText(JSON.stringify({ text: 'é'.repeat(600) }), { maxBytes: 1024 });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems[0]).toMatchObject({ kind: 'too-large', reason: expect.stringMatching(/^the document is 1,211 bytes \(1.2 KiB\), more than the 1 KiB allowed$/) as string });
  });

  it('tells a too-deep value without recursing', () => {
    expect(valueDepthExceeds(deepValue(100_000), 64)).toBe(true);
    expect(valueDepthExceeds(deepValue(64), 64)).toBe(false);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(valueDepthExceeds(cycle, 64)).toBe(false);
  });
});

describe('a config nested 100,000 levels deep', () => {
  it('is a ConfigError naming the file, the depth and the bound, not a stack overflow', async () => {
    const dir = await tempMoaiDir();
    const path = await writeConfigFile(dir, `{"session": ${nested(100_000)}}`);
    const error = (await thrown(() => loadConfig({ dir, env: {} }))) as ConfigError;
    expect(isConfigError(error), String(error)).toBe(true);
    expect(error.message).toBe(
      `Invalid configuration in ${path} at line 1, column ${13 + 5 * 63}: the document is nested 100,001 levels deep, ` +
        'more than the 64 levels allowed: this cannot be a moai-session configuration. Check that it is the right file.',
    );
  });

  it('is refused when given as a value too', () => {
    const error = (() => {
      try {
        parseConfig({ session: deepValue(100_000) }, 'inline');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isConfigError(error), String(error)).toBe(true);
    expect((error as Error).message).toContain('nested more than 64 levels deep');
  });

  it('refuses a config file over 1 MiB before reading it', async () => {
    const dir = await tempMoaiDir();
    const path = await writeConfigFile(dir, '{}');
    await writeFile(path, `{"$schema": "${'x'.repeat(2 * 1024 * 1024)}"}`);
    const error = (await thrown(() => loadConfig({ dir, env: {} }))) as ConfigError;
    expect(isConfigError(error), String(error)).toBe(true);
    expect(error.message).toContain(`Invalid configuration in ${path}: the file is 2,097,167 bytes, more than the 1,048,576`);
  });
});

describe('a handoff package nested 100,000 levels deep', () => {
  it('is an InvalidArgumentError (exit 1) naming the source, the depth and the bound', () => {
    const error = thrownSync(() => parseHandoffPackageText(`{"handoff_id": ${nested(100_000)}}`, 'pkg.json'));
    expect(isInvalidArgumentError(error), String(error)).toBe(true);
    expect((error as Error).message).toBe(
      `The handoff package in pkg.json cannot be read at line 1, column ${16 + 5 * 63}: the document is nested 100,001 levels deep, ` +
        'more than the 64 levels allowed; this cannot be a handoff package.',
    );
  });

  it('names the line and column of bad JSON', () => {
    const error = thrownSync(() => parseHandoffPackageText('{\n  "handoff_id": "h-1",\n}', 'stdin'));
    expect((error as Error).message).toBe(
      'The handoff package in stdin is not valid JSON at line 2, column 22: JSON does not allow a comma after the last entry; remove it.',
    );
  });

  it('is explained, not a stack overflow, when given as a value', () => {
    const result = validateHandoffPackage({ handoff_id: deepValue(100_000) }, { minAvailableTokens: 0, compatibleAgents: {} });
    expect(result.ok).toBe(false);
    const problem = result.problems.find((p) => p.path === 'handoff_id');
    // Too deep to write out as JSON: described by what it is.
    expect(problem?.message).toMatch(/^handoff_id is an object, but it must be an id: /);
  });
});

function thrownSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, but none was thrown');
}
