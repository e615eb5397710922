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
