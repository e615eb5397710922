import { describe, expect, it } from 'vitest';
import { describeAllowed, explainSchemaErrors, type SchemaNode } from '../../src/validation/explainSchemaErrors.js';
import { handoffPackageSchema } from '../../src/handoff/generated/handoffCheck.js';
import { describeValue } from '../../src/util/describeValue.js';
import { formatPath, pointerSegments } from '../../src/validation/paths.js';
import { VALID_HANDOFF_PACKAGE } from './samples.js';

const explain = (value: unknown) =>
  explainSchemaErrors(handoffPackageSchema(), value, { documentName: 'The handoff package', noun: 'field' });

describe('the schema-error explainer', () => {
  it('names a missing section once, not each field inside it', () => {
    const { task_context: _, ...rest } = VALID_HANDOFF_PACKAGE;
    expect(explain(rest)).toEqual([
      {
        kind: 'missing',
        path: 'task_context',
        value: undefined,
        message:
          'task_context is missing; it must be an object with the fields ' +
          '{ spec_id?, current_phase?, completed_steps?, next_step?, constraints?, current_task?, open_tasks?, completed_tasks? }.',
      },
    ]);
  });

  it('explains a present object where an object or null is allowed from inside the object', () => {
    const pkg = structuredClone(VALID_HANDOFF_PACKAGE);
    (pkg.task_context.current_task as Record<string, unknown>)['title'] = '';
    expect(explain(pkg).map((problem) => problem.message)).toEqual([
      'task_context.current_task.title is "", but it must be a non-empty string of at most 1000 characters.',
    ]);
  });

  it('uses list indexes and quotes keys that are not identifiers in paths', () => {
    const pkg = structuredClone(VALID_HANDOFF_PACKAGE);
    (pkg.task_context.open_tasks[1] as Record<string, unknown>)['my key'] = 1;
    const [problem] = explain(pkg);
    expect(problem?.path).toBe('task_context.open_tasks[1]["my key"]');
    expect(problem?.message).toBe(
      'Unknown field task_context.open_tasks[1]["my key"]. The fields allowed in task_context.open_tasks[1] are: id, title, state, phase.',
    );
  });

  it('suggests the field an unknown one was meant to be, or says where it belongs', () => {
    const { to_agent: _, ...rest } = VALID_HANDOFF_PACKAGE;
    const messages = explain({ ...rest, toAgent: 'coder', tokens_used: 1 }).map((problem) => problem.message);
    expect(messages).toContain('Unknown field toAgent. Did you mean to_agent? The fields allowed at the top level are: ' +
      'handoff_id, timestamp, from_agent, to_agent, session_context, task_context, context_snapshot, recovery_info, created_at.');
    expect(messages.find((m) => m.startsWith('Unknown field tokens_used.'))).toContain('tokens_used belongs in session_context.');
  });

  it('puts a prefix before every path, and limits how many it explains', () => {
    const problems = explainSchemaErrors(handoffPackageSchema(), { from_agent: 5 }, {
      documentName: 'data',
      noun: 'field',
      prefix: ['data', 'package'],
      limit: 1,
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/^data\.package\.handoff_id is missing; it must be an id: 1 to 200 letters/);
    expect(problems[0]?.path).toBe('handoff_id');
  });

  it('says what a schema node allows', () => {
    const node = (schema: SchemaNode) => describeAllowed(schema);
    expect(node({ type: 'integer', minimum: 1, maximum: 100 })).toBe('an integer from 1 to 100');
    expect(node({ type: 'number', maximum: 5 })).toBe('a number of at most 5');
    expect(node({ anyOf: [{ const: 'a' }, { const: 'b' }] })).toBe('one of "a", "b"');
    expect(node({ anyOf: [{ type: 'string' }, { type: 'null' }] })).toBe('a string or null');
    expect(node({ type: 'array', maxItems: 3, items: { type: 'boolean' } })).toBe('a list of at most 3 items, each true or false');
  });
});

describe('the value describer', () => {
  it('shows values as JSON, cut to a readable length, never throwing', () => {
    expect(describeValue(undefined)).toBe('missing');
    expect(describeValue('70')).toBe('"70" (text in quotes)');
    expect(describeValue('true')).toBe('"true" (text in quotes)');
    expect(describeValue(12n)).toBe('12 (a bigint)');
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue('x'.repeat(500))).toBe(`"${'x'.repeat(77)}..."`);
    expect(describeValue({ list: [1, 2] })).toBe('{"list":[1,2]}');
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(describeValue(cycle)).toBe('an object');
  });

  it('hides the password of a URL', () => {
    expect(describeValue('postgres://moai:hunter2@db/moai')).toBe('"postgres://moai:****@db/moai"');
  });
});

describe('the path formatter', () => {
  it('reads JSON Pointers and writes readable paths', () => {
    expect(pointerSegments('/a~1b/c~0d/0')).toEqual(['a/b', 'c~d', '0']);
    expect(formatPath(['models', 'context_windows', 'claude-sonnet-4.5'])).toBe('models.context_windows["claude-sonnet-4.5"]');
    expect(formatPath(['list', 0, 'id'])).toBe('list[0].id');
  });
});
