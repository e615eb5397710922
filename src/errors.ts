/**
 * Every error moai-session throws on purpose is a `MoaiError` with a stable
 * `code`. The CLI maps codes to exit codes and prints the message as one line;
 * the messages say what was wrong, where, and what to do.
 */
export class MoaiError extends Error {
  /** A stable, machine-readable code, e.g. `EXPECTED_VERSION_CONFLICT`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** True when `error` is a {@link MoaiError}. */
export const isMoaiError = (error: unknown): error is MoaiError => error instanceof MoaiError;

/** An append named an expected stream version that is not the stream's version. */
export class ExpectedVersionConflictError extends MoaiError {
  constructor(
    readonly stream: string,
    readonly expected: string | number,
    readonly actual: number,
  ) {
    super(
      'EXPECTED_VERSION_CONFLICT',
      `Stream ${stream} is at version ${actual}, but the append expected ${expected}: ` +
        `someone else wrote first. Reload the stream and decide again.`,
    );
  }
}

/** True when `error` is an {@link ExpectedVersionConflictError}. */
export const isExpectedVersionConflictError = (error: unknown): error is ExpectedVersionConflictError =>
  error instanceof ExpectedVersionConflictError;

/** A task event the task lifecycle machine does not accept in the task's state. */
export class InvalidTransitionError extends MoaiError {
  constructor(
    readonly sessionId: string,
    readonly taskId: string,
    readonly state: string,
    readonly eventType: string,
    readonly accepted: readonly string[],
  ) {
    super(
      'INVALID_TRANSITION',
      `Task ${taskId} in session ${sessionId} is ${state} and does not accept ${eventType}; ` +
        (accepted.length > 0
          ? `in ${state} it accepts ${accepted.join(', ')}.`
          : `${state} is final and accepts no events.`),
    );
  }
}

/** True when `error` is an {@link InvalidTransitionError}. */
export const isInvalidTransitionError = (error: unknown): error is InvalidTransitionError =>
  error instanceof InvalidTransitionError;

/** A line of the durable log that cannot be read back: bad checksum, bad JSON, bad envelope. */
export class CorruptLogError extends MoaiError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'CORRUPT_LOG',
      `The event log is corrupt at ${file}:${line}: ${reason}. ` +
        'Nothing was changed. `moai-session repair` backs the log up, keeps every sound line and quarantines the rest ' +
        '(`--skip-damaged` shows what is sound first); or restore the file from a backup.',
      options,
    );
  }
}

/** True when `error` is a {@link CorruptLogError}. */
export const isCorruptLogError = (error: unknown): error is CorruptLogError => error instanceof CorruptLogError;

/** An event that does not match its schema, or whose type is unknown. */
export class InvalidEventError extends MoaiError {
  constructor(
    readonly where: string,
    readonly reason: string,
  ) {
    super('INVALID_EVENT', `Invalid event at ${where}: ${reason}.`);
  }
}

/** True when `error` is an {@link InvalidEventError}. */
export const isInvalidEventError = (error: unknown): error is InvalidEventError => error instanceof InvalidEventError;

/** The log has no session with this id. */
export class UnknownSessionError extends MoaiError {
  /** `known`: the sessions the log has, when they were looked up (an empty list says the log has none). */
  constructor(
    readonly sessionId: string,
    known?: readonly string[],
  ) {
    super(
      'UNKNOWN_SESSION',
      `No session ${JSON.stringify(sessionId)} in the log.` +
        (known === undefined
          ? ''
          : known.length > 0
            ? ` Known sessions: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''}.`
            : ' The log has no sessions yet; start one first.'),
    );
  }
}

/** True when `error` is an {@link UnknownSessionError}. */
export const isUnknownSessionError = (error: unknown): error is UnknownSessionError =>
  error instanceof UnknownSessionError;

/** A command the session or task cannot take now, for a reason other than the task machine. */
export class CommandRejectedError extends MoaiError {
  constructor(message: string) {
    super('COMMAND_REJECTED', message);
  }
}

/** True when `error` is a {@link CommandRejectedError}. */
export const isCommandRejectedError = (error: unknown): error is CommandRejectedError =>
  error instanceof CommandRejectedError;

/** Another process holds the writer lock of a file event log. */
export class LogLockedError extends MoaiError {
  constructor(
    readonly dir: string,
    readonly owner: string,
  ) {
    super(
      'LOG_LOCKED',
      `The event log in ${dir} is being written by another process (${owner}). ` +
        `Only one writer at a time: wait for it to finish, or open the log read-only.`,
    );
  }
}

/** True when `error` is a {@link LogLockedError}. */
export const isLogLockedError = (error: unknown): error is LogLockedError => error instanceof LogLockedError;

/** The state folder or its files cannot be read or written. */
export class StorageError extends MoaiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE', message, options);
  }
}

/** True when `error` is a {@link StorageError}. */
export const isStorageError = (error: unknown): error is StorageError => error instanceof StorageError;

/**
 * A checkpoint whose `CheckpointCreated` event is in the log but whose
 * document could not be saved. A resume skips such a checkpoint (its document
 * is missing) and folds from an older one; the session can go on.
 */
export class CheckpointNotSavedError extends StorageError {
  constructor(
    readonly sessionId: string,
    readonly checkpointId: string,
    cause: unknown,
  ) {
    super(
      `Checkpoint ${checkpointId} of session ${sessionId} is recorded in the log, but its document could not be saved ` +
        `(${(cause as Error).message}); a resume will skip it. Fix the checkpoints folder, then take another checkpoint.`,
      { cause },
    );
  }
}

/** True when `error` is a {@link CheckpointNotSavedError}. */
export const isCheckpointNotSavedError = (error: unknown): error is CheckpointNotSavedError => error instanceof CheckpointNotSavedError;

/**
 * A read of a read-only store stopped because the writer rewrote lines it
 * had read (a rolled-back write, noticed by this read or another): read again.
 */
export class LogRewrittenError extends StorageError {
  constructor(
    readonly dir: string,
    readonly fromPosition: number,
  ) {
    super(`The writer of ${dir} rewrote the log from position ${fromPosition} while this read was under way (a rolled-back write); read again.`);
  }
}

/** True when `error` is a {@link LogRewrittenError}. */
export const isLogRewrittenError = (error: unknown): error is LogRewrittenError => error instanceof LogRewrittenError;

/** The refusal of a store kind this version does not have (the config's `store.kind`, or `MOAI_STORE_URL`). */
export function unsupportedStoreError(kind: string): StorageError {
  return new StorageError(
    `The config (store.kind, or the MOAI_STORE_URL environment variable) names a ${kind} store, which this version of ` +
      'moai-session does not have yet; use the file store (store.kind "file", and unset MOAI_STORE_URL).',
  );
}

/** An argument given to the library or the CLI that is out of range or malformed. */
export class InvalidArgumentError extends MoaiError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** True when `error` is an {@link InvalidArgumentError}. */
export const isInvalidArgumentError = (error: unknown): error is InvalidArgumentError =>
  error instanceof InvalidArgumentError;

/** The store was used after `close()`. */
export class StoreClosedError extends MoaiError {
  constructor() {
    super('STORE_CLOSED', 'The event store is closed; create a new one to keep working.');
  }
}
