import { describe, expect, it } from 'vitest';
import { sessionContextText } from '../../src/index.js';
import { clipText, wellFormed } from '../../src/util/clipText.js';
import { createEngine } from '../../src/index.js';
import { createMemoryEventStore } from '../../src/store/memoryEventStore.js';

/** True when `text` holds a lone surrogate: the UTF-8 encoder then writes U+FFFD instead of it. */
const hasLoneSurrogate = (text: string): boolean => Buffer.from(text, 'utf8').toString('utf8') !== text;

describe('clipText', () => {
  it('cuts to the bound with an ellipsis, and leaves text within it alone', () => {
    expect(clipText('abcdef', 6)).toBe('abcdef');
    expect(clipText('abcdefg', 6)).toBe('abc...');
    expect(clipText('abcdefg', 6, '…')).toBe('abcde…');
  });

  it('never splits a surrogate pair', () => {
    // '😀' is two UTF-16 code units: a cut after 'ab' + the first half would leave a lone high surrogate.
    const text = `ab😀${'x'.repeat(20)}`;
    const cut = clipText(text, 6);
    expect(cut).toBe('ab...');
    expect(hasLoneSurrogate(cut)).toBe(false);
    for (let max = 3; max < text.length; max++) expect(hasLoneSurrogate(clipText(text, max)), `max ${max}`).toBe(false);
  });

  it('replaces lone surrogates from elsewhere, and keeps pairs', () => {
    expect(wellFormed('a\ud83db😀\ude00')).toBe('a\ufffdb😀\ufffd');
  });
});

describe('the re-injectable context', () => {
  it('is valid Unicode whatever its bound cuts through', async () => {
    const engine = await createEngine({ store: createMemoryEventStore() });
    const session = await engine.startSession({ sessionId: 's1', agent: 'a', model: 'claude-sonnet-4-5' });
    for (let i = 1; i <= 6; i++) await session.recordContext({ tier: 'critical', text: `critical item ${i} ${'é😀<x>'.repeat(800)}`, tag: `c${i}` });
    for (let maxChars = 2000; maxChars <= 10_000; maxChars += 337) {
      const text = sessionContextText(session.state, { maxChars });
      expect(text.length).toBeLessThanOrEqual(maxChars);
      expect(hasLoneSurrogate(text), `maxChars ${maxChars}`).toBe(false);
    }
    await engine.close();
  });
});
