import * as errors from '../errors.js';
import { AppendOnlyList } from '../projections/appendOnlyList.js';
import { PersistentMap, PersistentSet } from '../projections/persistentMap.js';

/*
 * What crosses between the threads of a parallel replay: folded state and
 * errors, in a form the structured clone keeps. The clone copies plain
 * objects, arrays, Maps and Sets, but gives every class instance back as a
 * bare object; the projections' persistent lists, maps and sets are written
 * as tagged records and built again on the other side. A long array of
 * like records (a token history's entries, a session's tasks) crosses as
 * columns, and a column of numbers, booleans or strings as a typed array or
 * one text: the clone copies those at once, where it writes every record's
 * keys and builds every record again key by key. The walk is generic, so a
 * projection added to the view crosses without being named here.
 */

/** The tag key of an encoded persistent structure: no projection's field is named so. */
const TAG = '\u0000moai';

type Encoded =
  | { [TAG]: 'list'; items: unknown }
  | { [TAG]: 'map'; keys: unknown; values: unknown }
  | { [TAG]: 'set'; values: unknown }
  | { [TAG]: 'records'; keys: string[]; columns: unknown[] }
  | { [TAG]: 'ints'; values: Int32Array }
  | { [TAG]: 'numbers'; values: Float64Array }
  | { [TAG]: 'booleans'; values: Uint8Array }
  | { [TAG]: 'texts'; text: string; lengths: Int32Array };

/**
 * An array at least this long whose items are plain records with the same
 * keys in the same order (a token history's entries, a session's tasks)
 * crosses as one column per key: the structured clone writes a record's key
 * names with every record, and builds every record again key by key, where a
 * column of numbers or strings costs a fraction of that.
 */
const COLUMNS_FROM = 16;

/** A plain object: what the structured clone copies key by key. */
const isPlainObject = (value: object): boolean => {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

/**
 * `value` with every `AppendOnlyList`, `PersistentMap` and `PersistentSet`
 * in it replaced by a tagged record, and every long array of like records
 * or primitives by its columns, for `postMessage`. What holds neither is
 * handed back as it is, not copied. A class instance of another kind cannot
 * cross unchanged, so it is refused rather than turned into a bare object.
 */
export function encodeForTransfer(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof AppendOnlyList) return { [TAG]: 'list', items: encodeArray(value.toArray()) } satisfies Encoded;
  if (value instanceof PersistentMap) {
    const keys: unknown[] = [];
    const values: unknown[] = [];
    for (const [key, item] of value as PersistentMap<unknown, unknown>) {
      keys.push(key);
      values.push(item);
    }
    return { [TAG]: 'map', keys: encodeArray(keys), values: encodeArray(values) } satisfies Encoded;
  }
  if (value instanceof PersistentSet) return { [TAG]: 'set', values: encodeArray([...(value as PersistentSet<unknown>)]) } satisfies Encoded;
  if (Array.isArray(value)) return encodeArray(value);
  if (!isPlainObject(value)) {
    // The clone keeps these as they are.
    if (value instanceof Map || value instanceof Set || value instanceof Date) return value;
    throw new Error(`A replay cannot hand a ${value.constructor.name} from one thread to another: teach replayTransfer.ts its form.`);
  }
  let copy: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const encoded = encodeForTransfer(item);
    if (encoded !== item) {
      copy ??= { ...record };
      copy[key] = encoded;
    }
  }
  return copy ?? value;
}

function encodeArray(items: readonly unknown[]): unknown {
  if (items.length >= COLUMNS_FROM) {
    const packed = packColumn(items) ?? asColumns(items);
    if (packed !== undefined) return packed;
  }
  let copy: unknown[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const encoded = encodeForTransfer(item);
    if (encoded !== item) {
      copy ??= items.slice();
      copy[i] = encoded;
    }
  }
  return copy ?? (items as unknown[]);
}

/** The longest text a column of strings is joined into (well under V8's longest string). */
const MAX_JOINED_TEXT = 1 << 28;

/**
 * A column of like primitives in the form the clone copies at once: whole
 * numbers as an `Int32Array`, other numbers as a `Float64Array`, booleans as
 * bytes, strings (and `undefined`) as one text and each one's length (-1 for
 * `undefined`). Undefined for any other column.
 */
function packColumn(values: readonly unknown[]): Encoded | undefined {
  const first = values[0];
  if (typeof first === 'number') {
    let whole = true;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (typeof value !== 'number') return undefined;
      // -0 is no int32: 1 / -0 is -Infinity.
      if ((value | 0) !== value || (value === 0 && 1 / value < 0)) whole = false;
    }
    // From an array-like (not an iterable): one copy of a packed array.
    const numbers = values as ArrayLike<number>;
    return whole ? { [TAG]: 'ints', values: new Int32Array(numbers) } : { [TAG]: 'numbers', values: new Float64Array(numbers) };
  }
  if (typeof first === 'boolean') {
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (typeof value !== 'boolean') return undefined;
      bytes[i] = value ? 1 : 0;
    }
    return { [TAG]: 'booleans', values: bytes };
  }
  if (typeof first === 'string' || first === undefined) {
    const lengths = new Int32Array(values.length);
    const parts: string[] = [];
    let total = 0;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value === undefined) {
        lengths[i] = -1;
      } else if (typeof value === 'string') {
        lengths[i] = value.length;
        total += value.length;
        parts.push(value);
      } else {
        return undefined;
      }
    }
    if (parts.length === 0 || total > MAX_JOINED_TEXT) return undefined;
    return { [TAG]: 'texts', text: parts.join(''), lengths };
  }
  return undefined;
}

/** The values of a column {@link packColumn} packed (or of an encoded array), by index. */
function unpackColumn(column: unknown): ArrayLike<unknown> {
  if (typeof column !== 'object' || column === null || Array.isArray(column)) return decodeTransferred(column) as unknown[];
  const encoded = column as Encoded;
  switch (encoded[TAG]) {
    case 'ints':
    case 'numbers':
      return encoded.values;
    case 'booleans':
      return Array.from(encoded.values, (byte) => byte === 1);
    case 'texts': {
      const { text, lengths } = encoded;
      const strings: (string | undefined)[] = [];
      let at = 0;
      for (let i = 0; i < lengths.length; i++) {
        const length = lengths[i]!;
        if (length < 0) {
          strings.push(undefined);
        } else {
          strings.push(text.slice(at, at + length));
          at += length;
        }
      }
      return strings;
    }
    default:
      return decodeTransferred(column) as unknown[];
  }
}

/** `items` as columns, when they are all plain records with the same keys in the same order; undefined otherwise. */
function asColumns(items: readonly unknown[]): Encoded | undefined {
  const first = items[0];
  if (typeof first !== 'object' || first === null || Array.isArray(first) || !isPlainObject(first)) return undefined;
  const keys = Object.keys(first);
  if (keys.length === 0 || keys.includes(TAG)) return undefined;
  // Filled in order, so each column is a packed array (the clone writes a holey one index by index).
  const columns: unknown[][] = keys.map(() => []);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item !== 'object' || item === null || Array.isArray(item) || !isPlainObject(item)) return undefined;
    const record = item as Record<string, unknown>;
    let count = 0;
    // An inherited enumerable key (on a polluted Object.prototype) comes after the own ones and makes the count wrong: no columns then.
    for (const key in record) {
      if (key !== keys[count]) return undefined;
      const value = record[key];
      columns[count]!.push(typeof value === 'object' && value !== null ? encodeForTransfer(value) : value);
      count++;
    }
    if (count !== keys.length) return undefined;
  }
  return { [TAG]: 'records', keys, columns: columns.map((column) => packColumn(column) ?? column) };
}

/** The inverse of {@link encodeForTransfer}, on the structured clone of what it made; changes `value` in place where it can. */
export function decodeTransferred(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  // Written only where something changed: what holds no tagged record may be shared, even frozen (a fold's own share, not cloned).
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const decoded = decodeTransferred(value[i]);
      if (decoded !== value[i]) value[i] = decoded;
    }
    return value;
  }
  if (!isPlainObject(value)) return value;
  const record = value as Record<string, unknown>;
  const tag = record[TAG];
  if (tag !== undefined) {
    const encoded = record as Encoded;
    switch (encoded[TAG]) {
      case 'list':
        return AppendOnlyList.of(decodeTransferred(encoded.items) as unknown[]);
      case 'map': {
        const keys = decodeTransferred(encoded.keys) as unknown[];
        const values = decodeTransferred(encoded.values) as unknown[];
        return PersistentMap.of(keys.map((key, i) => [key, values[i]] as const));
      }
      case 'set':
        return PersistentSet.of(decodeTransferred(encoded.values) as unknown[]);
      case 'records':
        return fromColumns(encoded.keys, encoded.columns);
      case 'ints':
      case 'numbers':
      case 'booleans':
      case 'texts':
        return Array.from(unpackColumn(encoded));
    }
  }
  for (const key of Object.keys(record)) {
    const decoded = decodeTransferred(record[key]);
    if (decoded !== record[key]) record[key] = decoded;
  }
  return record;
}

/** An error as it crosses threads: its class by name and its own fields, so the other side throws the same error. */
export interface TransferredError {
  className: string;
  message: string;
  stack: string | undefined;
  fields: Record<string, unknown>;
  cause: TransferredError | undefined;
}

/** `error` in a form `postMessage` keeps, class and fields included (see {@link errorFromTransfer}). */
export function errorForTransfer(error: unknown): TransferredError {
  if (!(error instanceof Error)) return { className: 'Error', message: String(error), stack: undefined, fields: {}, cause: undefined };
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    const field = (error as unknown as Record<string, unknown>)[key];
    if (key !== 'cause' && (typeof field !== 'object' || field === null || Array.isArray(field))) fields[key] = field;
  }
  return {
    className: error.constructor.name,
    message: error.message,
    stack: error.stack,
    fields,
    cause: error.cause === undefined ? undefined : errorForTransfer(error.cause),
  };
}

/**
 * The error {@link errorForTransfer} described, as an instance of the same
 * class when it is one of moai-session's (so `isCorruptLogError` and the CLI's
 * exit codes see it as the thread that threw it did), a plain `Error` otherwise.
 */
export function errorFromTransfer(transferred: TransferredError): Error {
  const known = (errors as Record<string, unknown>)[transferred.className];
  const isMoai = typeof known === 'function' && (known === errors.MoaiError || known.prototype instanceof errors.MoaiError);
  // A built-in error (a TypeError, say) keeps its class too.
  const builtIn = (globalThis as Record<string, unknown>)[transferred.className];
  const isBuiltIn = typeof builtIn === 'function' && (builtIn === Error || builtIn.prototype instanceof Error);
  const error: Error = isMoai
    ? (Object.create((known as typeof errors.MoaiError).prototype) as Error)
    : isBuiltIn
      ? new (builtIn as ErrorConstructor)(transferred.message)
      : new Error(transferred.message);
  Object.defineProperty(error, 'message', { value: transferred.message, writable: true, configurable: true, enumerable: false });
  if (transferred.stack !== undefined) Object.defineProperty(error, 'stack', { value: transferred.stack, writable: true, configurable: true, enumerable: false });
  Object.assign(error, transferred.fields);
  if (transferred.cause !== undefined) {
    Object.defineProperty(error, 'cause', { value: errorFromTransfer(transferred.cause), writable: true, configurable: true, enumerable: false });
  }
  return error;
}

/** A function that builds the record at an index from columns, one per key: made once per set of keys. */
type RecordBuilder = (columns: readonly ArrayLike<unknown>[], i: number) => Record<string, unknown>;
const builders = new Map<string, RecordBuilder>();

/**
 * The builder of records with `keys`, in that order: an object literal, so
 * every record built gets one shape at once and each column is read at a
 * site of its own (a loop over the keys would make each read and each write
 * see every column and every key, slowly).
 */
function builderOf(keys: readonly string[]): RecordBuilder {
  const id = keys.join('\u0000');
  let builder = builders.get(id);
  if (builder === undefined) {
    const fields = keys.map((key, k) => `${JSON.stringify(key)}: c[${k}][i]`).join(', ');
    builder = new Function('c', 'i', `return { ${fields} };`) as RecordBuilder;
    if (builders.size < 100) builders.set(id, builder);
  }
  return builder;
}

/** The records {@link asColumns} wrote as columns, built again in their key order. */
function fromColumns(keys: readonly string[], columns: readonly unknown[]): Record<string, unknown>[] {
  const decoded = columns.map(unpackColumn);
  const length = decoded[0]?.length ?? 0;
  const build = builderOf(keys);
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < length; i++) records.push(build(decoded, i));
  return records;
}
