import { describe, expect, it } from 'vitest';
import { isInvalidArgumentError, isInvalidEventError } from '../../src/errors.js';
import { sessionStream } from '../../src/events/envelope.js';
import { validateNewEvents } from '../../src/events/validate.js';
import { checkId, idProblem, isValidId, MAX_SESSION_ID_LENGTH, type IdKind } from '../../src/validation/ids.js';

function refusal(kind: IdKind, value: unknown): Error {
  try {
    checkId(kind, value);
  } catch (error) {
    expect(isInvalidArgumentError(error), String(error)).toBe(true);
    return error as Error;
  }
  throw new Error(`expected ${String(value)} to be refused`);
}

const started = (sessionId: string) => ({
  id: 'e1',
  type: 'SessionStarted' as const,
  meta: { at: '2026-01-01T00:00:00Z' },
  data: { sessionId, agent: 'planner', model: 'm' },
});

describe('the id rule', () => {
  it('accepts letters, digits and . _ : - starting with a letter or digit', () => {
    for (const id of ['s1', 'S', '9', 'a.b_c:d-e', 'x'.repeat(200)]) expect(() => checkId('task', id)).not.toThrow();
  });

  it('says what is wrong with an id, and the rule', () => {
    expect(refusal('task', 'a b').message).toBe(
      'Task id "a b" is not valid: it has " " at character 2. ' +
        'Use 1 to 200 letters, digits, dots, colons, underscores or dashes, starting with a letter or digit.',
    );
    expect(refusal('agent', '-x').message).toContain('it starts with "-"');
    expect(refusal('checkpoint', '').message).toContain('Checkpoint id "" is not valid: it is empty.');
    expect(refusal('handoff', 42).message).toContain('Handoff id 42 is not valid: it is 42, not a string.');
    expect(refusal('recovery', 'tab\there').message).toContain('it has "\\t" at character 4');
  });

  it('refuses a 200-character session id at once: its stream would be too long for an event', () => {
    const long = 'a'.repeat(200);
    // Without the rule, the id passes the pattern and the append fails later, as an invalid event.
    expect(() => validateNewEvents(sessionStream(long), [started(long)] as never)).toThrow(/stream name/);
    const message = refusal('session', long).message;
    expect(message).toContain('it has 200 characters, more than 192');
    expect(message).toContain("a session's stream, session-<id>, is at most 200 characters");
    expect(() => checkId('task', long)).not.toThrow();
  });

  it('accepts every session id whose events the store accepts, up to the longest', () => {
    const longest = 'a'.repeat(MAX_SESSION_ID_LENGTH);
    checkId('session', longest);
    expect(() => validateNewEvents(sessionStream(longest), [started(longest)] as never)).not.toThrow();
    expect(isValidId('session', `${longest}a`)).toBe(false);
  });

  it('cuts a 10,000-character id to a readable length in the message', () => {
    const huge = 'x'.repeat(10_000);
    const message = refusal('session', huge).message;
    expect(message.length).toBeLessThan(400);
    expect(message).toContain(`"${'x'.repeat(60)}"... (10000 characters)`);
    expect(message).toContain('it has 10000 characters, more than 192');
  });

  it('cuts a long stream name in an event error too', () => {
    let error: unknown;
    try {
      validateNewEvents(`session-${'y'.repeat(10_000)}`, []);
    } catch (e) {
      error = e;
    }
    expect(isInvalidEventError(error)).toBe(true);
    expect((error as Error).message.length).toBeLessThan(400);
    expect((error as Error).message).toContain('(10008 characters): it has 10008 characters, more than 200');
  });

  it('finds no problem in a valid id', () => {
    expect(idProblem('task', 'ok')).toBeUndefined();
  });
});
