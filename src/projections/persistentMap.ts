import type * as Immutable from 'immutable';
import { requireCommonJs } from '../util/commonJs.js';

const { Map: ImmutableMap, Set: ImmutableSet } = requireCommonJs('immutable') as typeof Immutable;

/**
 * A persistent map behind the standard `ReadonlyMap` interface: `set`
 * returns a new map sharing all but one path with the old one (Immutable.js
 * underneath, O(log n) a change), so a projection can keep every older view
 * intact while the public view shows only what JavaScript's own maps show.
 * It serialises as a plain object, as JSON expects of a map of ids.
 */
export class PersistentMap<K, V> implements ReadonlyMap<K, V> {
  private constructor(private readonly inner: Immutable.Map<K, V>) {}

  /** An empty map. */
  static empty<K, V>(): PersistentMap<K, V> {
    return new PersistentMap(ImmutableMap<K, V>());
  }

  /** A map of `entries`, in their order. */
  static of<K, V>(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    return new PersistentMap(ImmutableMap<K, V>().withMutations((map) => {
      for (const [key, value] of entries) map.set(key, value);
    }));
  }

  get size(): number {
    return this.inner.size;
  }

  get(key: K): V | undefined {
    return this.inner.get(key);
  }

  has(key: K): boolean {
    return this.inner.has(key);
  }

  /** This map with `key` set to `value`: a new map, unless this one is {@link asMutable}'s. */
  set(key: K, value: V): PersistentMap<K, V> {
    const next = this.inner.set(key, value);
    return next === this.inner ? this : new PersistentMap(next);
  }

  /**
   * A copy that `set` changes in place (a fold that owns its state uses it to
   * spare one allocation per event); Immutable.js copies on first write every
   * node it shares with this map, which never changes.
   */
  asMutable(): PersistentMap<K, V> {
    return new PersistentMap(this.inner.asMutable());
  }

  /** The map frozen again: `set` returns new maps from here on. */
  asImmutable(): PersistentMap<K, V> {
    return new PersistentMap(this.inner.asImmutable());
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    // Immutable's forEach stops when the callback returns false; a Map's never does.
    for (const [key, value] of this.inner) callback.call(thisArg, value, key, this);
  }

  entries(): MapIterator<[K, V]> {
    return this.inner.entries() as MapIterator<[K, V]>;
  }

  keys(): MapIterator<K> {
    return this.inner.keys() as MapIterator<K>;
  }

  values(): MapIterator<V> {
    return this.inner.values() as MapIterator<V>;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  /** A plain object of the entries, in order (keys as strings). */
  toJSON(): Record<string, V> {
    return this.inner.toJSON() as Record<string, V>;
  }
}

/**
 * A persistent set behind the standard `ReadonlySet` interface; see
 * {@link PersistentMap}. It serialises as an array.
 */
export class PersistentSet<T> implements ReadonlySet<T> {
  private constructor(private readonly inner: Immutable.Set<T>) {}

  /** An empty set. */
  static empty<T>(): PersistentSet<T> {
    return new PersistentSet(ImmutableSet<T>());
  }

  /** A set of `values`. */
  static of<T>(values: Iterable<T>): PersistentSet<T> {
    return new PersistentSet(ImmutableSet<T>(values));
  }

  get size(): number {
    return this.inner.size;
  }

  has(value: T): boolean {
    return this.inner.has(value);
  }

  /** This set with `value` added: a new set. */
  add(value: T): PersistentSet<T> {
    const next = this.inner.add(value);
    return next === this.inner ? this : new PersistentSet(next);
  }

  forEach(callback: (value: T, value2: T, set: ReadonlySet<T>) => void, thisArg?: unknown): void {
    for (const value of this.inner) callback.call(thisArg, value, value, this);
  }

  entries(): SetIterator<[T, T]> {
    return this.inner.entries() as SetIterator<[T, T]>;
  }

  keys(): SetIterator<T> {
    return this.inner.keys() as SetIterator<T>;
  }

  values(): SetIterator<T> {
    return this.inner.values() as SetIterator<T>;
  }

  [Symbol.iterator](): SetIterator<T> {
    return this.values();
  }

  /** The values as an array, in the order they were added. */
  toJSON(): T[] {
    return this.inner.toArray();
  }
}
