/**
 * An immutable list that grows at the end in O(1): each version sees its own
 * `length` items of a shared array, and only a version that is no longer the
 * newest copies on append. A projection can keep a growing history in its
 * state without making every event O(history), as copying arrays would.
 */
export class AppendOnlyList<T> implements Iterable<T> {
  private constructor(
    private readonly items: T[],
    /** The number of items in this version of the list. */
    readonly length: number,
  ) {}

  /** The empty list. */
  static empty<T>(): AppendOnlyList<T> {
    return new AppendOnlyList<T>([], 0);
  }

  /** A list of `items` (copied). */
  static of<T>(items: readonly T[]): AppendOnlyList<T> {
    return new AppendOnlyList<T>([...items], items.length);
  }

  /** A new list with `item` at the end; this one is unchanged. */
  append(item: T): AppendOnlyList<T> {
    if (this.items.length === this.length) {
      this.items.push(item);
      return new AppendOnlyList(this.items, this.length + 1);
    }
    const copy = this.items.slice(0, this.length);
    copy.push(item);
    return new AppendOnlyList(copy, this.length + 1);
  }

  /** The item at `index`; negative counts from the end. */
  at(index: number): T | undefined {
    const i = index < 0 ? this.length + index : index;
    return i >= 0 && i < this.length ? this.items[i] : undefined;
  }

  /** The last item, if any. */
  last(): T | undefined {
    return this.length > 0 ? this.items[this.length - 1] : undefined;
  }

  /** A plain array copy. */
  toArray(): T[] {
    return this.items.slice(0, this.length);
  }

  /** Serialised as a plain array. */
  toJSON(): T[] {
    return this.toArray();
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.items[i]!;
  }
}
