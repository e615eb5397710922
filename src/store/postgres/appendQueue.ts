import type { NewEvent } from '../../events/envelope.js';
import type { ExpectedVersion } from '../eventStore.js';

/** One append waiting for its turn: what to write and who to tell. */
export interface QueuedAppend {
  stream: string;
  events: readonly NewEvent[];
  expected: ExpectedVersion;
  resolve(outcome: AppendOutcome): void;
  reject(error: unknown): void;
}

/** What the database said of one append: its stream's version before it, and its first position when it was written. */
export interface AppendOutcome {
  /** The stream's version when the append was checked. */
  actual: number;
  /** The first event's position; undefined when the expected version did not match (nothing written). */
  firstPosition: number | undefined;
}

/** Sends a group of appends in one statement; resolves with one outcome per append, in order. */
export type SendAppends = (appends: readonly QueuedAppend[]) => Promise<AppendOutcome[]>;

/** Bounds of one group. */
export interface AppendQueueOptions {
  /** Most events in one statement. */
  maxEvents: number;
  /** Most groups in flight at once (each on its own connection). */
  maxInFlight: number;
  /**
   * A group goes beside one already in flight only when at least this many
   * events wait: small appends are better gathered into the next group (one
   * commit for all), large ones parse on the server while the other writes.
   */
  pipelineMinEvents: number;
}

/**
 * Appends that arrive while others are on their way wait here and go
 * together, in one statement, as soon as a connection is free: group commit
 * in the client, so that many concurrent appenders share the database's one
 * position lock and one WAL flush instead of queueing for it one by one.
 * Each append still succeeds or fails on its own (its own expected version).
 * A group never holds two appends of one stream, and a stream with an append
 * in flight waits for it, so one stream's appends are written in the order
 * they were made.
 */
export class AppendQueue {
  private readonly waiting: QueuedAppend[] = [];
  private readonly busyStreams = new Set<string>();
  private inFlight = 0;
  private drained: (() => void)[] = [];

  constructor(
    private readonly send: SendAppends,
    private readonly options: AppendQueueOptions,
  ) {}

  /** Queue an append; the promise settles when the database has answered for it. */
  push(append: Omit<QueuedAppend, 'resolve' | 'reject'>): Promise<AppendOutcome> {
    return new Promise<AppendOutcome>((resolve, reject) => {
      this.waiting.push({ ...append, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once nothing is waiting or in flight. */
  drain(): Promise<void> {
    if (this.waiting.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      if (this.inFlight > 0 && this.waitingEvents() < this.options.pipelineMinEvents) return;
      const group = this.take();
      if (group.length === 0) return;
      this.inFlight++;
      for (const append of group) this.busyStreams.add(append.stream);
      void this.send(group).then(
        (outcomes) => group.forEach((append, index) => append.resolve(outcomes[index]!)),
        (error: unknown) => group.forEach((append) => append.reject(error)),
      ).finally(() => {
        // The next group goes after the appenders just answered have had their turn to queue
        // their next appends (the slot stays taken till then): otherwise two halves of them
        // take turns, each in half-full groups.
        setImmediate(() => {
          this.inFlight--;
          for (const append of group) this.busyStreams.delete(append.stream);
          this.pump();
          if (this.waiting.length === 0 && this.inFlight === 0) for (const resolve of this.drained.splice(0)) resolve();
        });
      });
    }
  }

  private waitingEvents(): number {
    let events = 0;
    for (const append of this.waiting) events += append.events.length;
    return events;
  }

  /** The next group: waiting appends in order, one per stream, skipping streams in flight, up to the event bound. */
  private take(): QueuedAppend[] {
    const group: QueuedAppend[] = [];
    const streams = new Set<string>();
    let events = 0;
    const kept: QueuedAppend[] = [];
    for (const append of this.waiting) {
      const fits = group.length === 0 || events + append.events.length <= this.options.maxEvents;
      // A stream seen earlier in this pass (taken or kept back) keeps its later appends behind it.
      if (!fits || streams.has(append.stream) || this.busyStreams.has(append.stream)) {
        streams.add(append.stream);
        kept.push(append);
        continue;
      }
      streams.add(append.stream);
      group.push(append);
      events += append.events.length;
    }
    this.waiting.length = 0;
    this.waiting.push(...kept);
    return group;
  }
}
