import { unpackText } from '../context/packText.js';
import { MAX_CONTEXT_TEXT } from '../context/decideContext.js';
import type { ContextKind, ContextTier } from '../projections/contextItems.js';
import { isValidId } from '../validation/ids.js';
import { HANDOFF_CONTEXT_TAGS } from './buildHandoffPackage.js';
import type { HandoffPackage } from './handoffPackage.js';
import { clipText } from '../util/clipText.js';

/*
 * What a handoff package carries, as context items of the session that
 * accepts it: the product document's fields become facts of the log (the
 * user's language and expertise, the project, the constraints ... as
 * critical items; steps, todos and checkpoints as supporting ones), so that
 * they survive compactions, handoffs and restarts like any other item. Pure.
 */

/** One context item a package carries (recorded with a new id when the package is accepted). */
export interface CarriedContextItem {
  tier: ContextTier;
  kind: ContextKind;
  tag: string;
  text?: string;
  value?: unknown;
  /** `handoff:<handoffId>`. */
  source: string;
}

/** The tag of the item that holds a package's `critical_context`. */
export const CARRIED_CRITICAL_CONTEXT_TAG = 'handoff_critical_context';

const clip = (text: string): string => clipText(text, MAX_CONTEXT_TEXT);
const present = (text: string | null | undefined): text is string => typeof text === 'string' && text.trim() !== '';

/** A constraint's tag: the constraint itself when it is a short id (`must_use_pytest`), else `constraint-<n>`. */
function constraintTag(constraint: string, index: number): string {
  return constraint.length <= 100 && isValidId('task', constraint) ? constraint : `constraint-${index + 1}`;
}

/**
 * The context items a package carries, most important first: critical
 * preferences (`user_language`, `expertise_level`), objectives
 * (`current_project`, `spec_id`, `next_step`), one constraint item per
 * `task_context.constraints` entry and the package's `critical_context`;
 * then supporting items for the phase, the completed steps, the summary, the
 * key decisions, the todos, the checkpoints and the budget strategy. Fields
 * the package does not have (or has as null) give no item.
 *
 * @example
 * carriedContextItems(pkg).map((item) => item.tag);
 * // ['user_language', 'expertise_level', 'current_project', 'spec_id', 'next_step', 'must_use_pytest', ...]
 */
export function carriedContextItems(pkg: HandoffPackage): CarriedContextItem[] {
  const source = `handoff:${pkg.handoff_id}`.slice(0, 200);
  const items: CarriedContextItem[] = [];
  const text = (tier: ContextTier, kind: ContextKind, tag: string, value: string | null | undefined): void => {
    if (present(value)) items.push({ tier, kind, tag, text: clip(value), source });
  };
  const list = (tier: ContextTier, kind: ContextKind, tag: string, value: readonly unknown[] | undefined): void => {
    if (value !== undefined && value.length > 0 && JSON.stringify(value).length <= MAX_CONTEXT_TEXT) items.push({ tier, kind, tag, value: [...value], source });
  };
  const { session_context: session, task_context: task, context_snapshot: snapshot } = pkg;

  text('critical', 'preference', HANDOFF_CONTEXT_TAGS.userLanguage, session.user_language);
  text('critical', 'preference', HANDOFF_CONTEXT_TAGS.expertiseLevel, session.expertise_level);
  text('critical', 'objective', HANDOFF_CONTEXT_TAGS.currentProject, session.current_project);
  text('critical', 'objective', HANDOFF_CONTEXT_TAGS.specId, task.spec_id);
  text('critical', 'objective', HANDOFF_CONTEXT_TAGS.nextStep, task.next_step);
  const tags = new Set<string>();
  (task.constraints ?? []).forEach((constraint, index) => {
    let tag = constraintTag(constraint, index);
    if (tags.has(tag)) tag = `constraint-${index + 1}`;
    tags.add(tag);
    text('critical', 'constraint', tag, constraint);
  });
  if (snapshot.critical_context !== undefined && snapshot.critical_context !== null) {
    text('critical', 'note', CARRIED_CRITICAL_CONTEXT_TAG, unpackText(snapshot.critical_context, 'context_snapshot.critical_context'));
  }

  text('supporting', 'note', HANDOFF_CONTEXT_TAGS.currentPhase, task.current_phase);
  list('supporting', 'note', HANDOFF_CONTEXT_TAGS.completedSteps, task.completed_steps);
  text('supporting', 'summary', 'handoff_summary', snapshot.summary);
  list('supporting', 'note', 'key_decisions', snapshot.key_decisions);
  list('supporting', 'note', 'active_todos', snapshot.active_todos);
  list('supporting', 'note', 'session_checkpoints', snapshot.session_checkpoints);
  text('supporting', 'note', 'token_budget_strategy', snapshot.token_budget_strategy);
  return items;
}
