import type { StoredEvent } from '../events/envelope.js';
import type { SessionView } from '../projections/sessionView.js';
import type { SessionCommand } from './commands.js';
import { tasksIn } from './decide.js';
import type { EngineSettings } from './settings.js';

/** True when the checkpoint interval has passed since the session's last checkpoint (or its start). */
export function checkpointDue(view: SessionView, settings: EngineSettings, now: Date): boolean {
  const last = view.checkpoints.all.last()?.at ?? view.session.startedAt;
  return now.getTime() - timeOf(last) >= settings.checkpointIntervalMinutes * 60_000;
}

// Every command asks when the last checkpoint was: parse each timestamp once, not once per command.
let parsedAt = '';
let parsedMs = Number.NaN;
const timeOf = (at: string): number => {
  if (at !== parsedAt) {
    parsedAt = at;
    parsedMs = Date.parse(at);
  }
  return parsedMs;
};

/** What the engine does in reaction to events it appended. */
export type Reaction =
  | { kind: 'command'; command: SessionCommand }
  | { kind: 'checkpoint'; reason: string }
  | { kind: 'compact'; trigger: string };

/**
 * The policies, pure: given what was just appended and the view after it,
 * the commands that follow.
 *
 * - warning crossed: in-progress tasks go to `token_warning`, and a checkpoint is taken;
 * - a task enters `in_progress` while the warning is reached (started, unblocked, back
 *   from a model switch): it goes to `token_warning` too;
 * - warning cleared (usage fell back): tasks in `token_warning` return to `in_progress`;
 * - emergency crossed: a checkpoint, then a compaction by the embedder's summariser
 *   (asked again with each usage record until one is recorded, or the context falls
 *   back under the emergency level);
 * - a task failed, or the last open task of a phase completed: a checkpoint;
 * - the checkpoint interval has passed since the last checkpoint (or the start): a checkpoint.
 *
 * Checkpoints are taken only when `auto_checkpoint` is on; at most one per reaction.
 */
export function react(view: SessionView, appended: readonly StoredEvent[], settings: EngineSettings, now: Date): Reaction[] {
  if (view.session.status === 'ended' || appended.length === 0) return [];
  const reactions: Reaction[] = [];
  const checkpointReasons: string[] = [];
  const warned = new Set<string>();
  const warn = (taskId: string, reason: string): void => {
    if (warned.has(taskId)) return;
    warned.add(taskId);
    reactions.push({ kind: 'command', command: { type: 'SendTaskEvent', taskId, event: 'TOKEN_WARNING', reason } });
  };
  for (const event of appended) {
    switch (event.type) {
      case 'BudgetThresholdCrossed': {
        const percent = `context at ${event.data.percent.toFixed(1)}% of the window`;
        if (event.data.level === 'warning') {
          for (const taskId of tasksIn(view, ['in_progress'])) warn(taskId, percent);
          checkpointReasons.push('budget-warning');
        }
        if (event.data.level === 'emergency') {
          checkpointReasons.push('budget-emergency');
          reactions.push({ kind: 'compact', trigger: `emergency threshold (${percent})` });
        }
        break;
      }
      case 'TokenUsageRecorded':
        // An emergency compaction that failed (or had no summariser) is asked for again.
        if (event.data.main && view.tokens.compactionPending && !appended.some((e) => e.type === 'BudgetThresholdCrossed')) {
          reactions.push({ kind: 'compact', trigger: 'emergency threshold (still waiting for a compaction)' });
        }
        break;
      case 'BudgetThresholdCleared':
        if (event.data.level === 'warning') {
          for (const taskId of tasksIn(view, ['token_warning'])) {
            reactions.push({
              kind: 'command',
              command: { type: 'SendTaskEvent', taskId, event: 'BUDGET_OK', reason: `context back to ${event.data.percent.toFixed(1)}%` },
            });
          }
        }
        break;
      case 'TaskTransitioned': {
        const { taskId, to } = event.data;
        // A task that starts (or comes back) while the warning is reached works under it too.
        if (to === 'in_progress' && view.tokens.reached.warning && view.tasks.byId.get(taskId)?.state === 'in_progress') {
          warn(taskId, 'context still past the warning threshold');
        }
        if (to === 'failed') checkpointReasons.push(`task-failed:${taskId}`);
        const phase = view.tasks.byId.get(taskId)?.phase;
        if (to === 'completed' && phase !== undefined) {
          const openInPhase = view.tasks.order
            .toArray()
            .some((id) => view.tasks.byId.get(id)!.phase === phase && view.tasks.byId.get(id)!.state !== 'completed');
          if (!openInPhase) checkpointReasons.push(`phase-end:${phase}`);
        }
        break;
      }
      default:
        break;
    }
  }
  if (checkpointReasons.length === 0 && !appended.every((e) => e.type === 'CheckpointCreated') && checkpointDue(view, settings, now)) {
    checkpointReasons.push('interval');
  }
  if (settings.autoCheckpoint && checkpointReasons.length > 0) {
    // The checkpoint goes first: it captures the state the reasons refer to.
    reactions.unshift({ kind: 'checkpoint', reason: checkpointReasons.join(', ') });
  }
  return reactions;
}
