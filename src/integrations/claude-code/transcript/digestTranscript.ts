import { scanTranscript, scanTranscriptSync, agentIdOfFile, type ScanTranscriptOptions } from './scanTranscript.js';
import type { ApiCallRecord, TokenCounts, TranscriptCheckpoint, TranscriptRecord } from './types.js';

/** One file of an import: a session's main transcript or one of its subagents'. */
export interface TranscriptFileSpec {
  path: string;
  role: 'main' | 'subagent';
  /** The subagent (for a subagent file; default: from its `agent-<id>.jsonl` name). */
  agentId?: string;
  /** The subagent's type, from its `agent-<id>.meta.json` when there is one. */
  agentType?: string;
  /** Read only what was appended after this checkpoint (an earlier import's). */
  from?: TranscriptCheckpoint;
  /** The file's size when it was found, used to share files between threads. */
  size?: number;
  /** Keep every API call line, not only the fullest of each call (for a reader that picks the fullest itself, as the session intake does). */
  everyLine?: boolean;
}

/** What one file contributes to an import: its records, each API call once (the line with the largest counts). */
export interface TranscriptDigest {
  spec: TranscriptFileSpec;
  records: TranscriptRecord[];
}

/** The sum of an API call line's four counts, by which the fullest line of a split reply is chosen. */
export const totalOf = (usage: TokenCounts): number => usage.input + usage.output + usage.cacheCreation + usage.cacheRead;

/** The key that identifies an API call (message id + request id), or undefined when the line names no message id. */
export const callKey = (call: ApiCallRecord): string | undefined =>
  call.messageId === undefined ? undefined : `${call.messageId}\u0000${call.requestId ?? ''}`;

/**
 * True when `candidate` should replace `kept` as a call's line: larger counts
 * (a split reply's first line carries a placeholder output count), and on a
 * tie the main chain's (a `/btw` sidechain replays a parent message).
 */
export function betterCall(candidate: Pick<ApiCallRecord, 'usage' | 'isSidechain'>, kept: Pick<ApiCallRecord, 'usage' | 'isSidechain'>): boolean {
  const a = totalOf(candidate.usage);
  const b = totalOf(kept.usage);
  return a > b || (a === b && kept.isSidechain && !candidate.isSidechain);
}

/** Collects one file's records, keeping one record per API call. */
class DigestBuilder {
  readonly records: TranscriptRecord[] = [];
  private readonly calls = new Map<string, number>();

  constructor(private readonly everyLine = false) {}

  add(record: TranscriptRecord): void {
    if (record.kind !== 'api-call' || this.everyLine) {
      this.records.push(record);
      return;
    }
    const key = callKey(record);
    if (key === undefined) {
      this.records.push(record);
      return;
    }
    const at = this.calls.get(key);
    if (at === undefined) {
      this.calls.set(key, this.records.length);
      this.records.push(record);
    } else if (betterCall(record, this.records[at] as ApiCallRecord)) {
      this.records[at] = record;
    }
  }
}

function scanOptions(spec: TranscriptFileSpec): ScanTranscriptOptions {
  const options: ScanTranscriptOptions = {};
  const agentId = spec.agentId ?? (spec.role === 'subagent' ? agentIdOfFile(spec.path) : undefined);
  if (agentId !== undefined) options.agentId = agentId;
  if (spec.from !== undefined) options.from = spec.from;
  return options;
}

/** Scan one file into its digest, with synchronous reads (what a worker thread runs). */
export function digestTranscriptSync(spec: TranscriptFileSpec): TranscriptDigest {
  const builder = new DigestBuilder(spec.everyLine === true);
  for (const record of scanTranscriptSync(spec.path, scanOptions(spec))) builder.add(record);
  return { spec, records: builder.records };
}

/** Scan one file into its digest. */
export async function digestTranscript(spec: TranscriptFileSpec): Promise<TranscriptDigest> {
  const builder = new DigestBuilder(spec.everyLine === true);
  for await (const record of scanTranscript(spec.path, scanOptions(spec))) builder.add(record);
  return { spec, records: builder.records };
}
