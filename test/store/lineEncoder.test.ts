import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/index.js';
import { decodeLine, LineEncoder, readLineHeader } from '../../src/store/lineCodec.js';

function stored(position: number, title: string): StoredEvent {
  return {
    position,
    stream: 'session-a',
    version: position,
    id: `e${position}`,
    type: 'TaskAdded',
    schemaVersion: 1,
    meta: { at: '2026-01-01T00:00:00.000Z', agent: 'tester' },
    data: { taskId: `t${position}`, title },
  } as StoredEvent;
}

/** The line format spelled out: the CRC-32 of the JSON in 8 hex digits, the mark, the JSON, a newline. */
function expectedLine(event: StoredEvent, last: boolean): string {
  const json = JSON.stringify(event);
  return `${crc32(json).toString(16).padStart(8, '0')}${last ? ' ' : '+'}${json}\n`;
}

describe('LineEncoder', () => {
  it('writes each event as a checksummed line, byte for byte, in ASCII and in any other text', () => {
    const encoder = new LineEncoder();
    for (const titles of [['plain', 'ascii'], ['café', 'naïve', 'plain after'], ['emoji 🚀 and a "quote"\nnewline', '中文']]) {
      encoder.reset();
      const events = titles.map((title, i) => stored(i + 1, title));
      events.forEach((event, i) => encoder.add(event, i === events.length - 1));
      const bytes = encoder.finish();
      const text = events.map((event, i) => expectedLine(event, i === events.length - 1)).join('');
      expect(bytes.toString('utf8')).toBe(text);
      // Each length ends where its line's newline is, and each line decodes to its event.
      let start = 0;
      events.forEach((event, i) => {
        const end = start + encoder.lengths[i]!;
        expect(bytes[end]).toBe(0x0a);
        const decoded = decodeLine(bytes, start, end);
        expect(decoded).toMatchObject({ ok: true, value: event, continues: i < events.length - 1 });
        expect(readLineHeader(bytes, start, end)).toMatchObject({ position: event.position, stream: 'session-a', version: event.version });
        start = end + 1;
      });
      expect(start).toBe(bytes.length);
    }
  });

  it('grows for a batch larger than its buffer, and starts each batch afresh', () => {
    const encoder = new LineEncoder();
    const long = 'x'.repeat(2_000);
    const events = Array.from({ length: 200 }, (_, i) => stored(i + 1, `${long} ${i}`)); // about 440 KB
    events.forEach((event) => encoder.add(event, true));
    const big = encoder.finish();
    expect(big.toString('utf8')).toBe(events.map((event) => expectedLine(event, true)).join(''));
    expect(encoder.lengths).toHaveLength(200);
    encoder.reset();
    encoder.add(stored(201, 'small'), true);
    expect(encoder.finish().toString('utf8')).toBe(expectedLine(stored(201, 'small'), true));
    expect(encoder.lengths).toHaveLength(1);
  });
});
