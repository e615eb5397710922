// A committed migration is never edited (review finding R17): a schema that applied it keeps what it made,
// and its recorded version would then lie about it. Each migration's SQL is pinned here by its sha256 for
// the schema `moai`; a change of the schema is a new migration, whose checksum is added below.
// Migration 1's checksum is that of its first committed text (33b2340) with the two statements that
// migrate() ran before it then (CREATE SCHEMA, the migrations table), checked against `git show` when pinned.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../src/postgres.js';

const PINNED: Record<number, string> = {
  1: 'e1192aeb44bbd307169015c1fa8cea0f07eb8373f2cbf45d35d2d4b90792b014',
  2: 'f126b538de69dc21738336467c88570de94d6ec591e98aad5f3dfab4e50f767d',
  3: '918c90be61e848ad9b94a72cffdd78c23518e02a1ddedff35f8548bdc58279a4',
};

describe('PostgreSQL migrations', () => {
  it('are numbered 1, 2, 3... without a hole', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: MIGRATIONS.length }, (_, i) => i + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  for (const migration of MIGRATIONS) {
    it(`migration ${migration.version} is as committed (never edit one: add the next)`, () => {
      const sum = createHash('sha256').update(migration.sql('moai')).digest('hex');
      expect(
        sum,
        PINNED[migration.version] === undefined
          ? `migration ${migration.version} is new: pin its checksum here`
          : `migration ${migration.version}'s SQL changed: schemas that applied it will not see the change; revert it and add migration ${LATEST_SCHEMA_VERSION + 1}`,
      ).toBe(PINNED[migration.version]);
    });
  }
});
