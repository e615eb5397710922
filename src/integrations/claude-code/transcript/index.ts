// Reading Claude Code transcripts: a streaming scanner of the records that
// matter, and the figures of one import built from them.
export { scanTranscript, scanTranscriptSync, agentIdOfFile, type ScanTranscriptOptions } from './scanTranscript.js';
export {
  digestTranscript,
  digestTranscriptSync,
  betterCall,
  callKey,
  totalOf,
  type TranscriptDigest,
  type TranscriptFileSpec,
} from './digestTranscript.js';
export { digestTranscripts, type DigestTranscriptsOptions } from './digestTranscripts.js';
export { findSubagentFiles } from './findSubagentFiles.js';
export {
  summariseDigests,
  type CompactionSummary,
  type ModelUsageSummary,
  type SkippedLineSummary,
  type SubagentSummary,
  type TaskSummary,
  type TranscriptSummary,
} from './summariseDigests.js';
export { summariseTranscripts, summariseTranscriptSessions, type SummariseTranscriptsOptions } from './summariseTranscripts.js';
export type * from './types.js';
