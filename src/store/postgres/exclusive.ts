/** Marks a store that can run work exclusively across every process on its database. */
export const EXCLUSIVE_WORK = Symbol.for('moai-session.exclusive-work');

/** What a store with {@link EXCLUSIVE_WORK} offers: `work` run while no other process runs work of the same name. */
export type ExclusiveWork = <T>(name: string, work: () => Promise<T>) => Promise<T>;

/**
 * Run `work` exclusively among every engine on the same log: under the
 * store's lock of that name when it has one (the PostgreSQL store: an
 * advisory lock held for the work's duration), else as it is (the file store
 * has one writer process; the memory store one engine).
 */
export function acrossEngines<T>(store: object, name: string, work: () => Promise<T>): Promise<T> {
  const exclusive = (store as { [EXCLUSIVE_WORK]?: ExclusiveWork })[EXCLUSIVE_WORK];
  return exclusive === undefined ? work() : exclusive(name, work);
}
