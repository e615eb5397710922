import { MoaiError } from '../errors.js';
import type { HandoffProblem } from './validateHandoffPackage.js';

/**
 * A handoff package that cannot be handed off: missing or wrong fields, too few
 * tokens available, agents that may not cooperate, no checkpoint. The message
 * lists every problem; `problems` holds them for a program to read.
 */
export class HandoffValidationError extends MoaiError {
  /** Every problem found, as `validateHandoffPackage` reports them. */
  readonly problems: readonly HandoffProblem[];
  /** True when too few tokens are available: compact the context, then make the package again. */
  readonly needsCompaction: boolean;
  /** The package's `handoff_id`, when it has a readable one. */
  readonly handoffId: string | undefined;

  constructor(problems: readonly HandoffProblem[], options: { needsCompaction?: boolean; handoffId?: string } = {}) {
    const subject = options.handoffId === undefined ? 'The handoff package' : `Handoff ${options.handoffId}`;
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      'HANDOFF_INVALID',
      `${subject} is not valid (${count}): ` +
        problems.map((problem, index) => `(${index + 1}) ${problem.message}`).join(' ') +
        ' Nothing was handed off.',
    );
    this.problems = problems;
    this.needsCompaction = options.needsCompaction ?? false;
    this.handoffId = options.handoffId;
  }
}

/** True when `error` is a {@link HandoffValidationError}. */
export const isHandoffValidationError = (error: unknown): error is HandoffValidationError =>
  error instanceof HandoffValidationError;
