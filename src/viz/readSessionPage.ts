import { taskLifecycleMachine } from '../../machines/taskLifecycle.js';
import { sessionIdOfStream, sessionStream } from '../events/envelope.js';
import { UnknownSessionError } from '../errors.js';
import { forkBase } from '../engine/loadSessionView.js';
import type { EngineSettings } from '../engine/settings.js';
import type { EventStore } from '../store/eventStore.js';
import { machineChart } from './machineGraph.js';
import { packSessionPage, type ForkLink, type ForkTree, type SessionPageData } from './sessionPageData.js';
import { createSessionStepper, type SessionStep, type SessionStepper } from './sessionSteps.js';
import { toSvg } from './svg.js';

/** Options of {@link readSessionPage}. */
export interface ReadSessionPageOptions {
  /** The config's thresholds, windows and prices. */
  settings: Pick<EngineSettings, 'budget' | 'prices'>;
  /** The most steps the page holds before it aggregates (default 200,000). */
  maxSteps?: number;
  /** Where another session's page is, for the fork tree's links; `<id>.html` beside this one by default. */
  href?: (sessionId: string) => string;
}

/** A session's page data, and the stepper that made it (to go on with live events). */
export interface ReadSessionPage {
  data: SessionPageData;
  stepper: SessionStepper;
}

/** The sessions a session forked from and that forked from it, read from the first event of every stream. */
export async function readForkTree(store: EventStore, sessionId: string, href: (sessionId: string) => string): Promise<ForkTree> {
  let parent: ForkLink | undefined;
  const children: ForkLink[] = [];
  const titles = new Map<string, string | undefined>();
  const forks: { sessionId: string; parentSessionId: string; parentVersion: number; title: string | undefined }[] = [];
  for (const info of await store.listStreams()) {
    const id = sessionIdOfStream(info.stream);
    if (id === undefined) continue;
    for await (const first of store.readStream(info.stream, { toVersion: 1 })) {
      if (first.type === 'SessionStarted' || first.type === 'SessionForked') titles.set(id, first.data.title);
      if (first.type === 'SessionForked') forks.push({ sessionId: id, parentSessionId: first.data.parentSessionId, parentVersion: first.data.parentVersion, title: first.data.title });
    }
  }
  for (const fork of forks) {
    if (fork.sessionId === sessionId) {
      parent = { sessionId: fork.parentSessionId, title: titles.get(fork.parentSessionId), atVersion: fork.parentVersion, href: href(fork.parentSessionId) };
    }
    if (fork.parentSessionId === sessionId) children.push({ sessionId: fork.sessionId, title: fork.title, atVersion: fork.parentVersion, href: href(fork.sessionId) });
  }
  children.sort((a, b) => a.atVersion - b.atVersion);
  return { parent, children };
}

/** The file name a session's page is written to beside its relatives': `<id>.html`. */
export const sessionPageFileName = (sessionId: string): string => `${encodeURIComponent(sessionId)}.html`;

/**
 * Read one session from the log and pack its page: every event folded by the
 * engine's projections (a fork from its parent's view at the fork point), the
 * task machine's chart laid out, the fork tree around it.
 *
 * @throws {UnknownSessionError} when the log has no such session.
 */
export async function readSessionPage(store: EventStore, sessionId: string, options: ReadSessionPageOptions): Promise<ReadSessionPage> {
  const stream = sessionStream(sessionId);
  const totalEvents = await store.streamVersion(stream);
  if (totalEvents === 0) throw new UnknownSessionError(sessionId);
  let base;
  for await (const first of store.readStream(stream, { toVersion: 1 })) if (first.type === 'SessionForked') base = await forkBase(store, first);
  const stepper = createSessionStepper({
    settings: options.settings,
    totalEvents,
    ...(options.maxSteps === undefined ? {} : { maxSteps: options.maxSteps }),
    ...(base === undefined ? {} : { forkBase: base }),
  });
  const steps: SessionStep[] = [];
  for await (const event of store.readStream(stream)) {
    const step = stepper.add(event);
    if (step !== undefined) steps.push(step);
  }
  const rest = stepper.flush();
  if (rest !== undefined) steps.push(rest);
  const chart = machineChart(taskLifecycleMachine);
  const data = packSessionPage(steps, {
    sessionId,
    title: stepper.view.session.title,
    totalEvents: stepper.eventsRead,
    stride: stepper.stride,
    thresholds: options.settings.budget.thresholds,
    machine: { chart, svg: await toSvg(chart) },
    forks: await readForkTree(store, sessionId, options.href ?? sessionPageFileName),
  });
  return { data, stepper };
}
