import { InvalidArgumentError } from '../errors.js';
import { describeValue } from '../util/describeValue.js';

/*
 * The one rule for ids: sessions, tasks, agents, checkpoints, handoffs,
 * recoveries, and the stream names made from them. Ids go into file names,
 * one-line log headers and SQL, so they are plain ASCII with no spaces. The
 * event schemas, the handoff package schema and the config's agent names all
 * take their pattern from here, so an id that passes `checkId` is one every
 * schema accepts.
 */

/** The most characters an id (and a stream name) may have. */
export const MAX_ID_LENGTH = 200;

/** The prefix of a session's stream: `session-<sessionId>`. */
export const SESSION_STREAM_PREFIX = 'session-';

/**
 * The most characters a session id may have: its stream `session-<id>` is a
 * stream name, itself at most {@link MAX_ID_LENGTH}.
 */
export const MAX_SESSION_ID_LENGTH = MAX_ID_LENGTH - SESSION_STREAM_PREFIX.length;

/**
 * The id pattern as JSON Schema writes it, length bound included (so it also
 * bounds the keys of a map, which carry no `maxLength`).
 */
export const ID_PATTERN_SOURCE = `^[A-Za-z0-9][A-Za-z0-9._:-]{0,${MAX_ID_LENGTH - 1}}$`;

/** {@link ID_PATTERN_SOURCE} as a regular expression. */
export const ID_PATTERN = new RegExp(ID_PATTERN_SOURCE);

/** What an id names; each kind has its own label in messages and its own length limit. */
export type IdKind = 'session' | 'task' | 'agent' | 'checkpoint' | 'handoff' | 'recovery' | 'stream';

const LABELS: { readonly [K in IdKind]: string } = {
  session: 'Session id',
  task: 'Task id',
  agent: 'Agent',
  checkpoint: 'Checkpoint id',
  handoff: 'Handoff id',
  recovery: 'Recovery id',
  stream: 'Stream name',
};

/** The most characters an id of `kind` may have. */
export const maxIdLength = (kind: IdKind): number => (kind === 'session' ? MAX_SESSION_ID_LENGTH : MAX_ID_LENGTH);

/**
 * The rule for ids of `kind`, as a phrase that fits after "it must be":
 * "1 to 192 letters, digits, dots, ...".
 *
 * @example
 * `Task ids are ${idRule('task')}.`
 */
export function idRule(kind: IdKind): string {
  const rule = `1 to ${maxIdLength(kind)} letters, digits, dots, colons, underscores or dashes, starting with a letter or digit`;
  return kind === 'session'
    ? `${rule} (a session's stream, ${SESSION_STREAM_PREFIX}<id>, is at most ${MAX_ID_LENGTH} characters)`
    : rule;
}

// An id is cut to this many characters in a message: enough to recognise it.
const SHOWN_ID_LENGTH = 60;

/** An id as a message shows it: quoted, cut to a readable length, with its length when cut. */
export function showId(value: unknown): string {
  if (typeof value !== 'string') return describeValue(value);
  if (value.length <= SHOWN_ID_LENGTH) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, SHOWN_ID_LENGTH))}... (${value.length} characters)`;
}

/** Why `value` is not a valid id of `kind`, as a short phrase, or undefined when it is one. */
export function idProblem(kind: IdKind, value: unknown): string | undefined {
  if (typeof value !== 'string') return `it is ${describeValue(value)}, not a string`;
  if (value === '') return 'it is empty';
  const most = maxIdLength(kind);
  if (value.length > most) return `it has ${value.length} characters, more than ${most}`;
  if (!/^[A-Za-z0-9]/.test(value)) return `it starts with ${JSON.stringify(value[0])}`;
  const bad = /[^A-Za-z0-9._:-]/.exec(value);
  if (bad !== null) return `it has ${JSON.stringify(bad[0])} at character ${bad.index + 1}`;
  return undefined;
}

/** True when `value` is a valid id of `kind`. */
export const isValidId = (kind: IdKind, value: unknown): value is string =>
  typeof value === 'string' && value.length <= maxIdLength(kind) && ID_PATTERN.test(value);

/**
 * Check an id given from outside (a command, a CLI argument) once, where it
 * comes in, so it never fails later as an invalid event or a bad file name.
 *
 * @throws {InvalidArgumentError} naming the kind, the id (cut to a readable
 *   length), what is wrong with it and the rule.
 * @example
 * checkId('session', options.sessionId);
 * // InvalidArgumentError: Session id "a b" is not valid: it has " " at character 2. Use 1 to 192 letters, ...
 */
export function checkId(kind: IdKind, value: unknown): asserts value is string {
  if (isValidId(kind, value)) return;
  throw new InvalidArgumentError(
    `${LABELS[kind]} ${showId(value)} is not valid: ${idProblem(kind, value) ?? 'it does not match the id rule'}. Use ${idRule(kind)}.`,
  );
}
