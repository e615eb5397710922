// `moai-session/claude-code`: Claude Code and the Claude Agent SDK feeding the
// engine. See docs/claude-code.md.

export {
  recordAgentSdk,
  AGENT_SDK_AGENT,
  RECONCILIATION_AGENT,
  type AgentSdkQueryOptions,
  type AgentSdkRecording,
  type RecordAgentSdkOptions,
  type RecordedStream,
  type AgentSdkMessageLike,
  type ModelReconciliation,
  type ResultReconciliation,
  type SdkTokens,
} from './integrations/claude-code/agentSdk.js';

// Transcripts: the import (sessions rebuilt in the log) and the reading alone.
export {
  importClaudeCodeTranscripts,
  importClaudeCodeTranscript,
  type ClaudeCodeImportResult,
  type ImportClaudeCodeOptions,
  type ImportClaudeCodeTranscriptsOptions,
} from './integrations/claude-code/importTranscripts.js';
export { scanTranscript, scanTranscriptSync, summariseTranscripts, summariseTranscriptSessions, findSubagentFiles, type TranscriptSummary, type TranscriptRecord, type TranscriptCheckpoint } from './integrations/claude-code/transcript/index.js';

// The hook, the installer, the status line and the doctor.
export { runHook, applyPayload, hookStateFolder, CLAUDE_CODE_AGENT, HOOK_LOCK_WAIT_MS, ADDITIONAL_CONTEXT_MAX, type RunHookOptions, type HookRunResult } from './integrations/claude-code/runHook.js';
export { HOOK_EVENT_RULES, UNKNOWN_EVENT_RULE, ruleOf, recordsNothing, type HookEventRule, type HookPlan } from './integrations/claude-code/hookMapping.js';
export { parseHookPayload, payloadOf, HookInputError, type HookPayload } from './integrations/claude-code/hookPayload.js';
export { writeHookLog, readHookLog, hookLogPath, HOOK_LOG_MAX_BYTES, type HookLogEntry, type HookLogLevel } from './integrations/claude-code/hookLog.js';
export { spoolDir, listSpool, listFailedSpool, type SpoolEntry } from './integrations/claude-code/hookSpool.js';
export {
  installClaudeCode,
  uninstallClaudeCode,
  settingsPathOf,
  moaiCommand,
  type InstallClaudeCodeOptions,
  type InstallClaudeCodeResult,
  type SettingsScope,
} from './integrations/claude-code/installClaudeCode.js';
export { OUR_MARKER, CORE_HOOK_EVENTS, NEWER_HOOK_EVENTS } from './integrations/claude-code/claudeSettings.js';
export { SettingsFileError } from './integrations/claude-code/settingsFile.js';
export { runStatusLine, statusLineText, type StatusLineOptions } from './integrations/claude-code/statusLine.js';
export { claudeCodeDoctor, type DoctorCheck, type DoctorReport, type DoctorOptions } from './integrations/claude-code/doctor.js';
