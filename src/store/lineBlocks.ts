import { crc32 } from 'node:zlib';

/*
 * Block checksums: the CRC-32 of a run of whole lines of a segment (their
 * bytes, newlines included), kept in the segment's index file. A reader that
 * reads a whole block checks it with one checksum over a megabyte instead of
 * one per line, which is most of what checking costs; a block that does not
 * match is checked line by line, so the error still names the line.
 *
 * Only the writer makes blocks, from the bytes it has just written and
 * synced, never from bytes read back: a block never vouches for a line
 * nobody checked. Lines outside every block (those a writer found on open
 * after its last index) are checked one by one, as before.
 */

/** A run of whole lines of one segment and the CRC-32 of their bytes. */
export interface LineBlock {
  /** The segment's line the block starts at, from 0. */
  readonly firstLine: number;
  readonly lineCount: number;
  readonly crc: number;
}

/** A block is closed once it holds this many bytes; reads are about this size too. */
export const BLOCK_BYTES = 1 << 20;

/** The block still growing: lines are added to it until it holds {@link BLOCK_BYTES}. */
export interface OpenBlock {
  firstLine: number;
  lineCount: number;
  bytes: number;
  crc: number;
}

/** Blocks a batch of lines closes and the open block after it (see {@link LineBlocks.plan}). */
export interface BlocksUpdate {
  /** The open block the update was planned from. */
  readonly from: OpenBlock | undefined;
  readonly closed: readonly LineBlock[];
  readonly open: OpenBlock | undefined;
}

function blockOf(open: OpenBlock): LineBlock {
  return { firstLine: open.firstLine, lineCount: open.lineCount, crc: open.crc };
}

/** The blocks of one segment: those read from its index file, then those its writer adds. */
export class LineBlocks {
  private readonly closed: LineBlock[];
  private readonly byFirstLine = new Map<number, LineBlock>();
  private open: OpenBlock | undefined;

  constructor(blocks: readonly LineBlock[] = []) {
    this.closed = [...blocks];
    for (const block of this.closed) this.byFirstLine.set(block.firstLine, block);
  }

  /**
   * Lines just written (and synced): `buffer` holds them one after another,
   * `lengths` their lengths without the newline, and the first is the
   * segment's line `firstLine`.
   */
  add(buffer: Buffer, lengths: readonly number[], firstLine: number): void {
    this.apply(this.plan(buffer, lengths, firstLine));
  }

  /**
   * What {@link add} would make of the blocks, worked out without changing
   * them: the writer checksums a batch while its fsync runs, and keeps the
   * result with {@link apply} once the lines are durable.
   */
  plan(buffer: Buffer, lengths: readonly number[], firstLine: number): BlocksUpdate {
    const closed: LineBlock[] = [];
    let open = this.open === undefined ? undefined : { ...this.open };
    if (open !== undefined && open.firstLine + open.lineCount !== firstLine) {
      closed.push(blockOf(open));
      open = undefined;
    }
    let start = 0; // where the part of `buffer` not yet in a block starts
    let end = 0;
    for (let i = 0; i < lengths.length; i++) {
      open ??= { firstLine: firstLine + i, lineCount: 0, bytes: 0, crc: 0 };
      const bytes = lengths[i]! + 1;
      end += bytes;
      open.lineCount++;
      open.bytes += bytes;
      if (open.bytes >= BLOCK_BYTES) {
        open.crc = crc32(buffer.subarray(start, end), open.crc);
        start = end;
        closed.push(blockOf(open));
        open = undefined;
      }
    }
    if (open !== undefined && end > start) open.crc = crc32(buffer.subarray(start, end), open.crc);
    return { from: this.open, closed, open };
  }

  /** Keep what {@link plan} worked out; the blocks must not have changed since. */
  apply(update: BlocksUpdate): void {
    if (update.from !== this.open) throw new Error('LineBlocks.apply: the blocks changed after the update was planned');
    for (const block of update.closed) {
      this.closed.push(block);
      this.byFirstLine.set(block.firstLine, block);
    }
    this.open = update.open;
  }

  /**
   * Go on with the last block, `bytes` long, if the next lines follow it: a
   * writer that reopens a segment extends the block its index ended with (a
   * CRC-32 goes on over appended bytes) instead of starting a small one at
   * every open. Lines that do not follow it close it again (see `add`).
   */
  reopenLast(bytes: number): void {
    const last = this.closed.at(-1);
    if (last === undefined || this.open !== undefined || bytes >= BLOCK_BYTES) return;
    this.closed.pop();
    this.byFirstLine.delete(last.firstLine);
    this.open = { firstLine: last.firstLine, lineCount: last.lineCount, bytes, crc: last.crc };
  }

  /** The block that starts at the segment's line `firstLine`, if one does (the open one included). */
  startingAt(firstLine: number): LineBlock | undefined {
    const open = this.open;
    if (open !== undefined && open.firstLine === firstLine) return blockOf(open);
    return this.byFirstLine.get(firstLine);
  }

  /** Every block, the open one as it is now, in line order. */
  all(): LineBlock[] {
    const open = this.open;
    return open === undefined ? [...this.closed] : [...this.closed, blockOf(open)];
  }

  /** Forget the blocks that reach past the segment's first `lineCount` lines (a cut tail). */
  truncate(lineCount: number): void {
    if (this.open !== undefined && this.open.firstLine + this.open.lineCount > lineCount) this.open = undefined;
    while (this.closed.length > 0) {
      const last = this.closed.at(-1)!;
      if (last.firstLine + last.lineCount <= lineCount) break;
      this.closed.pop();
      this.byFirstLine.delete(last.firstLine);
    }
  }
}
