// The Agent SDK adapter: wraps the async iterable `query(...)` returns,
// passes every message through unchanged, and records on the way what the
// messages mean (see agentSdkMessages.ts): the session (opened at the
// system/init message: started, or resumed or forked as the query's
// `resume` / `forkSession` options say), usage, subagent usage, compactions,
// the results reconciled. A failure to record never breaks the stream.

import type { Engine } from '../../engine/createEngine.js';
import type { SessionCommand } from '../../engine/commands.js';
import { executeSessionCommand, type SessionHandle } from '../../engine/sessionHandle.js';
import { sessionStream } from '../../events/envelope.js';
import { isUnknownSessionError } from '../../errors.js';
import { costOfSpend } from '../../budget/pricing.js';
import { AgentSdkIntake, type AgentSdkMessageLike, type ResultReconciliation, type SdkTokens } from './agentSdkMessages.js';

export { AgentSdkIntake, RECONCILIATION_AGENT, sdkUsage } from './agentSdkMessages.js';
export type { AgentSdkMessageLike, ModelReconciliation, ResultReconciliation, SdkTokens } from './agentSdkMessages.js';

/** The agent an Agent SDK session is recorded under unless told otherwise. */
export const AGENT_SDK_AGENT = 'claude-code';
/** How many messages before the init message are kept for it. */
const MAX_EARLY = 1_000;
/** The model a session starts on when the init message names none. */
const UNKNOWN_MODEL = 'unknown';

/** The query options the adapter reads (the SDK's `Options`: `resume`, `forkSession`, `continue`, `sessionId`, `model`). */
export interface AgentSdkQueryOptions {
  resume?: string;
  forkSession?: boolean;
  continue?: boolean;
  sessionId?: string;
  model?: string;
}

/** Options of {@link recordAgentSdk}. */
export interface RecordAgentSdkOptions {
  engine: Engine;
  /** The options given to `query()`: `resume` resumes that session, `resume` with `forkSession` forks it into the id the init message names. */
  queryOptions?: AgentSdkQueryOptions;
  /** The agent recorded as acting (default `claude-code`). */
  agent?: string;
  /** Told of every failure to record (the stream goes on; the message passes through regardless). */
  onError?: (error: Error, message: AgentSdkMessageLike | undefined) => void;
}

/** What the adapter has recorded so far. */
export interface AgentSdkRecording {
  /** The engine session (the SDK's session id), once the init message came. */
  readonly sessionId: string | undefined;
  /** How the session was opened: started, resumed, or forked from `parentSessionId`. */
  readonly opened: 'started' | 'resumed' | 'forked' | undefined;
  readonly parentSessionId: string | undefined;
  /** The model the init message named. */
  readonly model: string | undefined;
  /** API calls recorded, each message id once, main chain and subagents. */
  readonly apiCalls: number;
  readonly tokens: SdkTokens;
  readonly subagents: ReadonlyMap<string, { apiCalls: number; tokens: SdkTokens }>;
  readonly compactions: number;
  /** Each result message, its modelUsage reconciled with the per-message sums. */
  readonly results: readonly ResultReconciliation[];
  /** What the recorded calls cost at moai-session's prices (the SDK's own estimate is each result's `totalCostUsd`). */
  readonly costUsd: number;
  /** Failures to record, in order. */
  readonly errors: readonly Error[];
  /** The session's handle, once open. */
  readonly handle: SessionHandle | undefined;
}

/** The wrapped stream: the same messages, plus what was recorded (`moai`); every other member of the wrapped object (a Query's `interrupt()`, …) is the original's. */
export type RecordedStream<S> = S & AsyncIterable<AgentSdkItem<S>> & { readonly moai: AgentSdkRecording };

type AgentSdkItem<S> = S extends AsyncIterable<infer M> ? M : never;

/**
 * Record an Agent SDK stream in the engine as it is read. Every message is
 * passed through unchanged (the same object), after its meaning is recorded,
 * so a handler that reads the session sees it up to date.
 *
 * @example
 * import { query } from '@anthropic-ai/claude-agent-sdk';
 * import { recordAgentSdk } from 'moai-session/claude-code';
 * const options = { resume: previousId };
 * const stream = recordAgentSdk(query({ prompt: 'Go on', options }), { engine, queryOptions: options });
 * for await (const message of stream) console.log(message.type);
 * console.log(stream.moai.apiCalls, stream.moai.results.at(-1)?.totalCostUsd);
 */
export function recordAgentSdk<S extends AsyncIterable<M>, M extends AgentSdkMessageLike = AgentSdkMessageLike>(stream: S, options: RecordAgentSdkOptions): RecordedStream<S> {
  const recorder = new AgentSdkRecorder(options);
  let iterator: AsyncIterator<M> | undefined;
  const source = (): AsyncIterator<M> => (iterator ??= stream[Symbol.asyncIterator]());
  let finished = false;
  const finish = async (): Promise<void> => {
    if (finished) return;
    finished = true;
    await recorder.finish();
  };
  const wrapper: AsyncGenerator<M, void, undefined> = {
    async next() {
      const step = await source().next();
      if (step.done === true) {
        await finish();
        return { done: true, value: undefined };
      }
      await recorder.take(step.value);
      return step;
    },
    async return(value) {
      await finish();
      await source().return?.(value);
      return { done: true, value: undefined };
    },
    async throw(error) {
      await finish();
      if (source().throw !== undefined) await source().throw!(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return new Proxy(stream as object, {
    get(target, key) {
      if (key === 'moai') return recorder.recording;
      if (key === 'next' || key === 'return' || key === 'throw' || key === Symbol.asyncIterator) {
        const own = (wrapper as unknown as Record<PropertyKey, unknown>)[key];
        return typeof own === 'function' ? own.bind(wrapper) : own;
      }
      const value = Reflect.get(target, key, target);
      // The original's methods run on the original (a Query keeps private state).
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as RecordedStream<S>;
}

/** Records one stream's messages on its session. */
class AgentSdkRecorder {
  private readonly engine: Engine;
  private readonly agent: string;
  private readonly queryOptions: AgentSdkQueryOptions;
  private readonly onError: RecordAgentSdkOptions['onError'];
  private handle: SessionHandle | undefined;
  private intake: AgentSdkIntake | undefined;
  private readonly state: {
    sessionId?: string;
    opened?: AgentSdkRecording['opened'];
    parentSessionId?: string;
    model?: string;
  } = {};
  private readonly errors: Error[] = [];
  /** Set when the session could not be opened: nothing more is recorded. */
  private unopened = false;
  /** Messages before the init message (none in practice), replayed once the session is open. */
  private readonly early: AgentSdkMessageLike[] = [];
  /** The per-model sums recorded, for the cost at moai-session's prices. */
  private readonly byModel: Record<string, { inputTokens: number; outputTokens: number; cacheCreationInputTokens: number; cacheReadInputTokens: number }> = {};

  constructor(options: RecordAgentSdkOptions) {
    this.engine = options.engine;
    this.agent = options.agent ?? AGENT_SDK_AGENT;
    this.queryOptions = options.queryOptions ?? {};
    this.onError = options.onError;
  }

  get recording(): AgentSdkRecording {
    const intake = this.intake;
    const self = this;
    return {
      sessionId: this.state.sessionId,
      opened: this.state.opened,
      parentSessionId: this.state.parentSessionId,
      model: this.state.model,
      apiCalls: intake?.apiCalls ?? 0,
      tokens: intake?.tokens ?? { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 },
      subagents: intake?.subagents ?? new Map(),
      compactions: intake?.compactions ?? 0,
      results: intake?.results ?? [],
      get costUsd() {
        return costOfSpend(self.byModel, self.engine.settings.prices).usd;
      },
      errors: this.errors,
      handle: this.handle,
    };
  }

  async take(message: AgentSdkMessageLike): Promise<void> {
    try {
      if (typeof message !== 'object' || message === null || this.unopened) return;
      if (this.intake === undefined) {
        if (!(message.type === 'system' && message.subtype === 'init')) {
          // Kept for the session the init message opens; a stream that never sends one keeps only the first few.
          if (this.early.length < MAX_EARLY) this.early.push(message);
          return;
        }
        try {
          await this.open(message);
        } catch (error) {
          // No session to record in: the rest of the stream passes through unrecorded.
          this.unopened = true;
          this.early.length = 0;
          throw error;
        }
        for (const early of this.early.splice(0)) await this.run(this.intake!.take(early), early);
        return;
      }
      await this.run(this.intake.take(message), message);
    } catch (error) {
      this.fail(error, message);
    }
  }

  async finish(): Promise<void> {
    try {
      if (this.intake !== undefined) await this.run(this.intake.finish(), undefined);
    } catch (error) {
      this.fail(error, undefined);
    }
  }

  private fail(error: unknown, message: AgentSdkMessageLike | undefined): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    this.errors.push(failure);
    this.onError?.(failure, message);
  }

  private async run(commands: SessionCommand[], message: AgentSdkMessageLike | undefined): Promise<void> {
    if (commands.length === 0 || this.handle === undefined) return;
    for (const command of commands) {
      if (command.type !== 'RecordTokenUsage') continue;
      const sums = (this.byModel[command.model] ??= { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 });
      sums.inputTokens += command.inputTokens;
      sums.outputTokens += command.outputTokens;
      sums.cacheCreationInputTokens += command.cacheCreationInputTokens;
      sums.cacheReadInputTokens += command.cacheReadInputTokens;
    }
    try {
      // One message's commands together: all of them or none; one the session refuses is left out.
      await executeSessionCommand(this.handle, { type: 'RunBatch', commands, skipRefused: true }, this.agent);
    } catch (error) {
      this.fail(error, message);
    }
  }

  /** Open the session the init message names: resumed, forked, or started, as the query's options say. */
  private async open(init: AgentSdkMessageLike): Promise<void> {
    const sessionId = typeof init.session_id === 'string' && init.session_id !== '' ? init.session_id : this.queryOptions.sessionId;
    const model = (typeof init.model === 'string' && init.model !== '' ? init.model : this.queryOptions.model) ?? UNKNOWN_MODEL;
    this.state.model = model;
    if (sessionId === undefined) throw new Error('The Agent SDK init message names no session_id: nothing is recorded for this stream.');
    this.state.sessionId = sessionId;
    const { resume, forkSession } = this.queryOptions;
    let continued = false;
    if (resume !== undefined && forkSession === true && resume !== sessionId && (await this.exists(resume))) {
      this.handle = await this.engine.forkSession(resume, { sessionId, agent: this.agent, model });
      this.state.opened = 'forked';
      this.state.parentSessionId = resume;
      continued = true;
    } else if (await this.exists(sessionId)) {
      this.handle = await this.engine.resumeSession(sessionId, { agent: this.agent, reason: 'the Agent SDK stream goes on with it' });
      this.state.opened = 'resumed';
      continued = resume !== undefined || this.queryOptions.continue === true;
    } else {
      this.handle = await this.engine.startSession({ sessionId, agent: this.agent, model, title: `Agent SDK ${sessionId}` });
      this.state.opened = 'started';
      // A resume of a session this engine never saw: the SDK's running totals still start with its earlier turns.
      continued = resume !== undefined || this.queryOptions.continue === true;
    }
    if (this.handle.state.session.model !== model && model !== UNKNOWN_MODEL) {
      await executeSessionCommand(this.handle, { type: 'SwitchModel', model, reason: 'the Agent SDK init message names it' }, this.agent);
    }
    this.intake = new AgentSdkIntake({ model, continued, recorded: await this.recordedMessageIds(sessionId) });
  }

  private async exists(sessionId: string): Promise<boolean> {
    try {
      return (await this.engine.store.streamVersion(sessionStream(sessionId))) > 0;
    } catch (error) {
      if (isUnknownSessionError(error)) return false;
      throw error;
    }
  }

  /** The message ids a resumed session has recorded already (a forked one's are its parent's, in its own stream's history). */
  private async recordedMessageIds(sessionId: string): Promise<Set<string>> {
    const ids = new Set<string>();
    const stream = this.state.opened === 'forked' && this.state.parentSessionId !== undefined ? this.state.parentSessionId : sessionId;
    for await (const event of this.engine.store.readStream(sessionStream(stream))) {
      if (event.type === 'TokenUsageRecorded' && event.data.messageId !== undefined) ids.add(event.data.messageId);
    }
    return ids;
  }
}
