import type { Pool, PoolClient } from 'pg';
import { sleep } from './pgErrors.js';

/**
 * One `LISTEN` connection per store, shared by all its live subscriptions:
 * every append's `NOTIFY` (sent by the append function at commit, to every
 * process listening on the schema's channel) wakes them. A dropped
 * connection is reconnected with a growing pause (up to a second); after a
 * reconnect every watcher is woken, so what was appended meanwhile is read.
 * It holds its connection only while someone watches.
 */
export class NotifyListener {
  private readonly watchers = new Set<() => void>();
  private client: PoolClient | undefined;
  private running = false;
  private stopped = false;
  private interrupt: (() => void) | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly channel: string,
    private readonly onProblem: (error: unknown) => void = () => {},
  ) {}

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Call `wake` on every notification (and after each reconnect) until the returned function is called. */
  watch(wake: () => void): () => void {
    this.watchers.add(wake);
    if (!this.running && !this.stopped) void this.run();
    return () => {
      this.watchers.delete(wake);
      if (this.watchers.size === 0) this.release();
    };
  }

  /** Stop for good (the store closes). */
  stop(): void {
    this.stopped = true;
    this.watchers.clear();
    this.release();
  }

  private wakeAll(): void {
    for (const wake of [...this.watchers]) wake();
  }

  private release(error?: Error): void {
    this.interrupt?.();
    this.interrupt = undefined;
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    client.removeAllListeners('notification');
    client.removeAllListeners('error');
    client.on('error', () => {}); // a late error of a released connection is not ours any more
    if (error === undefined) {
      client.query(`UNLISTEN *`).then(
        () => client.release(),
        (failed: unknown) => client.release(failed as Error),
      );
    } else client.release(error);
  }

  private async run(): Promise<void> {
    this.running = true;
    let pause = 25;
    let first = true;
    try {
      while (!this.stopped && this.watchers.size > 0) {
        try {
          const client = await this.pool.connect();
          const lost = new Promise<Error | undefined>((resolve) => {
            this.interrupt = () => resolve(undefined);
            client.on('error', resolve);
            client.on('end', () => resolve(new Error('the LISTEN connection ended')));
          });
          client.on('notification', () => this.wakeAll());
          await client.query(`LISTEN ${this.channel}`);
          if (this.stopped || this.watchers.size === 0) {
            this.client = client;
            this.release();
            return;
          }
          this.client = client;
          // What was appended while nobody listened is read now.
          if (!first) this.wakeAll();
          first = false;
          pause = 25;
          const error = await lost;
          if (error === undefined) {
            // Released on purpose: listen again only if someone started watching since.
            if (this.stopped || this.watchers.size === 0) return;
            first = true;
            continue;
          }
          this.release(error);
          this.onProblem(error);
        } catch (error) {
          this.onProblem(error);
        }
        if (this.stopped || this.watchers.size === 0) return;
        await sleep(pause);
        pause = Math.min(1000, pause * 2);
      }
    } finally {
      this.running = false;
    }
  }
}
