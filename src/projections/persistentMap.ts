/** How a version of a map differs from the version it is stored against: one key. */
interface Difference<K, V> {
  key: K;
  /** Whether the key is in this version, and with what value. */
  had: boolean;
  value: V | undefined;
  /** The version this one is stored as a difference from (nearer the version the native map holds). */
  next: PersistentMap<K, V>;
}

/** The versions of one map share one native `Map`, which holds the content of one of them: the root. */
interface Family<K, V> {
  map: Map<K, V>;
  root: PersistentMap<K, V>;
}

/**
 * A persistent map behind the standard `ReadonlyMap` interface: `set`
 * returns a new version and every older version stays as it was, yet the
 * newest version reads and writes at the speed of a native `Map`.
 *
 * It is the "rerooting" structure of version trees (Baker's trick): all the
 * versions of a map share one native `Map` holding the content of one of
 * them, and every other version is stored as the one key in which it
 * differs from a version nearer that one. `set` changes the shared map and
 * turns the version it was called on into such a difference: O(1). Reading an
 * older version first walks the shared map back to it, turning the
 * differences around: O(versions between), and O(1) again after. The engine
 * reads and writes the newest version almost always (a session's view), so
 * its cost is a native map's; Immutable.js's hash array mapped trie, used
 * before, cost O(log n) a change and, for a 2,500-task session, a fifth of a
 * `moai-session state` run to build and read.
 *
 * It serialises as a plain object, as JSON expects of a map of ids.
 */
export class PersistentMap<K, V> implements ReadonlyMap<K, V> {
  private family: Family<K, V>;
  private difference: Difference<K, V> | undefined;
  /** A version `set` changes in place (see {@link asMutable}). */
  private mutable = false;

  private constructor(map: Map<K, V>) {
    this.family = { map, root: this };
  }

  /** An empty map. */
  static empty<K, V>(): PersistentMap<K, V> {
    return new PersistentMap(new Map<K, V>());
  }

  /** A map of `entries`, in their order. */
  static of<K, V>(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    const map = new Map<K, V>();
    for (const [key, value] of entries) map.set(key, value);
    return new PersistentMap(map);
  }

  /** The shared map, holding this version's content. */
  private content(): Map<K, V> {
    const family = this.family;
    if (family.root === this) return family.map;
    // The versions from this one to the root, then each difference undone from the root back.
    const path: PersistentMap<K, V>[] = [];
    for (let version: PersistentMap<K, V> = this; version !== family.root; version = version.difference!.next) path.push(version);
    const { map } = family;
    for (let i = path.length - 1; i >= 0; i--) {
      const version = path[i]!;
      const { key, had, value, next } = version.difference!;
      next.difference = { key, had: map.has(key), value: map.get(key), next: version };
      if (had) map.set(key, value as V);
      else map.delete(key);
      version.difference = undefined;
      family.root = version;
    }
    return map;
  }

  get size(): number {
    return this.content().size;
  }

  get(key: K): V | undefined {
    return this.content().get(key);
  }

  has(key: K): boolean {
    return this.content().has(key);
  }

  /** This map with `key` set to `value`: a new version, unless this one is {@link asMutable}'s. */
  set(key: K, value: V): PersistentMap<K, V> {
    const map = this.content();
    if (this.mutable) {
      map.set(key, value);
      return this;
    }
    const next = new PersistentMap<K, V>(map);
    next.family = this.family;
    this.difference = { key, had: map.has(key), value: map.get(key), next };
    map.set(key, value);
    this.family.root = next;
    return next;
  }

  /** This map without `key`: a new version (this one when it has no `key`), unless this one is {@link asMutable}'s. */
  delete(key: K): PersistentMap<K, V> {
    const map = this.content();
    if (!map.has(key)) return this;
    if (this.mutable) {
      map.delete(key);
      return this;
    }
    const next = new PersistentMap<K, V>(map);
    next.family = this.family;
    this.difference = { key, had: true, value: map.get(key), next };
    map.delete(key);
    this.family.root = next;
    return next;
  }

  /**
   * A copy that `set` changes in place, for a fold that owns its state (it
   * spares a version per event); this map never changes. O(n): a copy of the
   * content.
   */
  asMutable(): PersistentMap<K, V> {
    const copy = new PersistentMap(new Map(this.content()));
    copy.mutable = true;
    return copy;
  }

  /** This map, persistent again: `set` returns new versions from here on. */
  asImmutable(): PersistentMap<K, V> {
    this.mutable = false;
    return this;
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  // Iteration hands out a copy of the entries: reading another version meanwhile changes the shared map.
  entries(): MapIterator<[K, V]> {
    return [...this.content()][Symbol.iterator]() as MapIterator<[K, V]>;
  }

  keys(): MapIterator<K> {
    return [...this.content().keys()][Symbol.iterator]() as MapIterator<K>;
  }

  values(): MapIterator<V> {
    return [...this.content().values()][Symbol.iterator]() as MapIterator<V>;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  /** A plain object of the entries, in order (keys as strings). */
  toJSON(): Record<string, V> {
    const plain: Record<string, V> = {};
    for (const [key, value] of this.content()) plain[String(key)] = value;
    return plain;
  }
}

/**
 * A persistent set behind the standard `ReadonlySet` interface, on a
 * {@link PersistentMap}. It serialises as an array.
 */
export class PersistentSet<T> implements ReadonlySet<T> {
  private constructor(private readonly inner: PersistentMap<T, true>) {}

  /** An empty set. */
  static empty<T>(): PersistentSet<T> {
    return new PersistentSet(PersistentMap.empty<T, true>());
  }

  /** A set of `values`. */
  static of<T>(values: Iterable<T>): PersistentSet<T> {
    return new PersistentSet(PersistentMap.of([...values].map((value): [T, true] => [value, true])));
  }

  get size(): number {
    return this.inner.size;
  }

  has(value: T): boolean {
    return this.inner.has(value);
  }

  /** This set with `value` added: a new set (this one when it has it already). */
  add(value: T): PersistentSet<T> {
    return this.inner.has(value) ? this : new PersistentSet(this.inner.set(value, true));
  }

  forEach(callback: (value: T, value2: T, set: ReadonlySet<T>) => void, thisArg?: unknown): void {
    for (const value of this.inner.keys()) callback.call(thisArg, value, value, this);
  }

  entries(): SetIterator<[T, T]> {
    return [...this.inner.keys()].map((value): [T, T] => [value, value])[Symbol.iterator]() as SetIterator<[T, T]>;
  }

  keys(): SetIterator<T> {
    return this.inner.keys() as unknown as SetIterator<T>;
  }

  values(): SetIterator<T> {
    return this.inner.keys() as unknown as SetIterator<T>;
  }

  [Symbol.iterator](): SetIterator<T> {
    return this.values();
  }

  /** The values as an array, in the order they were added. */
  toJSON(): T[] {
    return [...this.inner.keys()];
  }
}
