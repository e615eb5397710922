import * as errors from '../errors.js';
import { AppendOnlyList } from '../projections/appendOnlyList.js';
import { PersistentMap, PersistentSet } from '../projections/persistentMap.js';

/*
 * What crosses between the threads of a parallel replay: folded state and
 * errors, in a form the structured clone keeps. The clone copies plain
 * objects, arrays, Maps and Sets, but gives every class instance back as a
 * bare object; the projections' persistent lists, maps and sets are written
 * as tagged records and built again on the other side. The walk is generic,
 * so a projection added to the view crosses without being named here.
 */

/** The tag key of an encoded persistent structure: no projection's field is named so. */
const TAG = '\u0000moai';

type Encoded =
  | { [TAG]: 'list'; items: unknown }
  | { [TAG]: 'map'; keys: unknown; values: unknown }
  | { [TAG]: 'set'; values: unknown }
  | { [TAG]: 'records'; keys: string[]; columns: unknown[][] };

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
 * in it replaced by a tagged record, for `postMessage`. What holds none is
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
    const columns = asColumns(items);
    if (columns !== undefined) return columns;
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
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      if (key !== keys[count]) return undefined;
      columns[count]!.push(encodeForTransfer(record[key]));
      count++;
    }
    if (count !== keys.length) return undefined;
  }
  return { [TAG]: 'records', keys, columns };
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

/** The records {@link asColumns} wrote as columns, built again in their key order. */
function fromColumns(keys: readonly string[], columns: readonly unknown[][]): Record<string, unknown>[] {
  const decoded = columns.map((column) => decodeTransferred(column) as unknown[]);
  const length = decoded[0]?.length ?? 0;
  const records = new Array<Record<string, unknown>>(length);
  for (let i = 0; i < length; i++) {
    const record: Record<string, unknown> = {};
    for (let k = 0; k < keys.length; k++) record[keys[k]!] = decoded[k]![i];
    records[i] = record;
  }
  return records;
}
