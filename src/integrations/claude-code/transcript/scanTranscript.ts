import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { ChunkedLines, DEFAULT_CHUNK_SIZE, type ScanStart } from './chunkedLines.js';
import { TranscriptLineDecoder } from './lineDecoder.js';
import type { TranscriptCheckpoint, TranscriptRecord } from './types.js';

/** Options of {@link scanTranscript} and {@link scanTranscriptSync}. */
export interface ScanTranscriptOptions {
  /** Go on from where an earlier scan of this file ended: its `end` record's checkpoint. Only lines appended since are read. */
  from?: TranscriptCheckpoint;
  /** Start at this byte offset (the start of a line), with nothing remembered of the lines before. */
  fromOffset?: number;
  /** How many lines lie before `fromOffset`; counted (a fast pass over those bytes) when not given. */
  fromLine?: number;
  /** The subagent the file's records belong to unless they name one. Default: the id in an `agent-<id>.jsonl` name. */
  agentId?: string;
  /** Bytes per read (default 256 KiB). */
  chunkSize?: number;
  /** Read at most this many bytes past the start ({@link scanTranscriptSync} only): the scan ends there as if the file did (a partial last line is read next time). */
  maxBytes?: number;
}

const AGENT_FILE = /^agent-(.+)\.jsonl$/;

/** The subagent id an `agent-<id>.jsonl` file name gives (`agent-acompact-e1f845.jsonl` gives `acompact-e1f845`). */
export function agentIdOfFile(path: string): string | undefined {
  return AGENT_FILE.exec(basename(path))?.[1];
}

/**
 * Read a Claude Code transcript (JSONL) and yield, in file order, the records
 * that matter: API calls, compactions, task and subagent tool calls and their
 * results, session facts, skipped lines; the last record is always `end`,
 * with the checkpoint to resume from. Memory stays flat whatever the file's
 * size; a malformed line is reported and the scan goes on. The lines that
 * carry records are checked whole (JSON.parse); the others (hook and bash
 * progress, ordinary tool results: most of a file) are classified by their
 * first bytes and checked only for being one `{…}` object per line, so a
 * damaged line among those is reported only when its ends show it.
 *
 * @example
 * for await (const record of scanTranscript(path)) {
 *   if (record.kind === 'api-call') console.log(record.messageId, record.usage);
 * }
 */
export async function* scanTranscript(path: string, options: ScanTranscriptOptions = {}): AsyncGenerator<TranscriptRecord, void, undefined> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const out: TranscriptRecord[] = [];
    const { start, checkpoint } = await startOf(options, size, (position, length) => readAsync(handle, position, length), path, out);
    const lines = new ChunkedLines(decoderFor(path, options, checkpoint), start, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    for (;;) {
      const target = lines.target();
      const { bytesRead } = await handle.read(target.buffer, target.offset, target.length, target.position);
      lines.consume(bytesRead, out);
      if (out.length > 0) {
        yield* out;
        out.length = 0;
      }
      if (bytesRead === 0) return;
    }
  } finally {
    await handle.close();
  }
}

/** {@link scanTranscript} with synchronous reads: for worker threads and hooks that read a few new lines and exit. */
export function* scanTranscriptSync(path: string, options: ScanTranscriptOptions = {}): Generator<TranscriptRecord, void, undefined> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const out: TranscriptRecord[] = [];
    const read = (position: number, length: number): Buffer => {
      const buffer = Buffer.allocUnsafe(length);
      return buffer.subarray(0, readSync(fd, buffer, 0, length, position));
    };
    const { start, checkpoint } = startOfSync(options, size, read, path, out);
    const lines = new ChunkedLines(decoderFor(path, options, checkpoint), start, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    const limit = options.maxBytes === undefined ? Infinity : start.offset + options.maxBytes;
    for (;;) {
      const target = lines.target();
      const length = Math.max(0, Math.min(target.length, limit - target.position));
      const bytesRead = length === 0 ? 0 : readSync(fd, target.buffer, target.offset, length, target.position);
      lines.consume(bytesRead, out);
      if (out.length > 0) {
        yield* out;
        out.length = 0;
      }
      if (bytesRead === 0) return;
    }
  } finally {
    closeSync(fd);
  }
}

function decoderFor(path: string, options: ScanTranscriptOptions, checkpoint: TranscriptCheckpoint | undefined): TranscriptLineDecoder {
  const agentId = options.agentId ?? agentIdOfFile(path);
  return new TranscriptLineDecoder({
    file: path,
    ...(agentId !== undefined ? { agentId } : {}),
    ...(checkpoint !== undefined ? { checkpoint } : {}),
  });
}

async function readAsync(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

interface Start {
  start: ScanStart;
  checkpoint?: TranscriptCheckpoint;
}

// The start is worked out the same way for both readers; only the reads differ.
// A generator yields each read it needs, so the logic is written once.
type StartStep = Generator<{ position: number; length: number }, Start, Buffer>;

function* startSteps(options: ScanTranscriptOptions, size: number, path: string, out: TranscriptRecord[]): StartStep {
  const from = options.from;
  if (from !== undefined) {
    if (from.offset > size) {
      out.push({
        kind: 'skipped',
        line: 0,
        endOffset: 0,
        file: path,
        reason: `the file is ${size} bytes, shorter than the ${from.offset} bytes an earlier scan read (rewritten or truncated?): read again from the start`,
      });
      return { start: { offset: 0, line: 0, size } };
    }
    const start: ScanStart = { offset: from.offset, line: from.line, size };
    if (from.unterminated === true) start.unterminated = true;
    return { start, checkpoint: from };
  }
  const offset = Math.min(Math.max(0, options.fromOffset ?? 0), size);
  if (offset === 0) return { start: { offset: 0, line: options.fromLine ?? 0, size } };
  const before = yield { position: offset - 1, length: 1 };
  const midLine = before[0] !== 0x0a;
  let line = options.fromLine;
  if (line === undefined) {
    // Count the lines before the offset: a memchr pass, no parsing.
    line = 0;
    for (let position = 0; position < offset; ) {
      const chunk = yield { position, length: Math.min(1 << 20, offset - position) };
      if (chunk.length === 0) break;
      for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) line++;
      position += chunk.length;
    }
  }
  return { start: midLine ? { offset, line, size, midLine } : { offset, line, size } };
}

function startOfSync(options: ScanTranscriptOptions, size: number, read: (position: number, length: number) => Buffer, path: string, out: TranscriptRecord[]): Start {
  const steps = startSteps(options, size, path, out);
  let step = steps.next();
  while (step.done !== true) step = steps.next(read(step.value.position, step.value.length));
  return step.value;
}

async function startOf(
  options: ScanTranscriptOptions,
  size: number,
  read: (position: number, length: number) => Promise<Buffer>,
  path: string,
  out: TranscriptRecord[],
): Promise<Start> {
  const steps = startSteps(options, size, path, out);
  let step = steps.next();
  while (step.done !== true) step = steps.next(await read(step.value.position, step.value.length));
  return step.value;
}
