import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PersistentMap, PersistentSet } from '../../src/projections/persistentMap.js';

describe('the persistent map behind a view', () => {
  it('behaves as a ReadonlyMap: size, get, has, iteration in insertion order, forEach to the end', () => {
    const map = PersistentMap.empty<string, number>().set('a', 1).set('b', 2).set('c', 3);
    expect(map.size).toBe(3);
    expect(map.get('b')).toBe(2);
    expect(map.has('z')).toBe(false);
    expect([...map]).toEqual([['a', 1], ['b', 2], ['c', 3]]);
    expect([...map.keys()]).toEqual(['a', 'b', 'c']);
    expect([...map.values()]).toEqual([1, 2, 3]);
    expect(new Map(map)).toEqual(new Map([['a', 1], ['b', 2], ['c', 3]]));
    // A callback that returns false does not stop a Map's forEach (it stops Immutable's).
    const seen: string[] = [];
    map.forEach((_value, key) => {
      seen.push(key);
      return false;
    });
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('leaves the map it came from as it was, and serialises as a plain object', () => {
    const before = PersistentMap.of([['t1', { state: 'pending' }]]);
    const after = before.set('t1', { state: 'in_progress' });
    expect(before.get('t1')).toEqual({ state: 'pending' });
    expect(after.get('t1')).toEqual({ state: 'in_progress' });
    expect(JSON.parse(JSON.stringify(after))).toEqual({ t1: { state: 'in_progress' } });
  });

  it('changes a mutable copy in place, and never the map it was copied from', () => {
    const original = PersistentMap.of([['a', 1]]);
    const owned = original.asMutable();
    expect(owned.set('b', 2)).toBe(owned);
    expect(owned.get('b')).toBe(2);
    expect(original.has('b')).toBe(false);
    const frozen = owned.asImmutable();
    expect(frozen.set('c', 3)).not.toBe(frozen);
  });
});

describe('the persistent set behind a view', () => {
  it('behaves as a ReadonlySet and serialises as an array', () => {
    const empty = PersistentSet.empty<string>();
    const one = empty.add('cp-1');
    expect(empty.has('cp-1')).toBe(false);
    expect(one.has('cp-1')).toBe(true);
    expect(one.add('cp-1')).toBe(one);
    expect([...one.add('cp-2')]).toEqual(['cp-1', 'cp-2']);
    expect(new Set(one.add('cp-2'))).toEqual(new Set(['cp-1', 'cp-2']));
    expect(JSON.stringify(PersistentSet.of(['x', 'y']))).toBe('["x","y"]');
  });
});

describe('the versions of a persistent map', () => {
  it('each keep their own content, whatever order they are written and read in (against copied native maps)', () => {
    type Step = { kind: 'set'; from: number; key: string; value: number } | { kind: 'read'; version: number };
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), from: fc.nat(), key, value: fc.integer() }),
      fc.record({ kind: fc.constant('read' as const), version: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const versions = [PersistentMap.empty<string, number>()];
        const models = [new Map<string, number>()];
        for (const s of steps) {
          if (s.kind === 'set') {
            const from = s.from % versions.length;
            versions.push(versions[from]!.set(s.key, s.value));
            models.push(new Map(models[from]!).set(s.key, s.value));
          } else {
            const at = s.version % versions.length;
            expect([...versions[at]!]).toEqual([...models[at]!]);
          }
        }
        versions.forEach((version, at) => {
          expect(version.size).toBe(models[at]!.size);
          for (const k of ['a', 'b', 'c', 'd', 'e']) expect(version.get(k)).toBe(models[at]!.get(k));
          expect(JSON.stringify(version)).toBe(JSON.stringify(Object.fromEntries(models[at]!)));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('reads the newest version at once after a long history', () => {
    let map = PersistentMap.empty<string, number>();
    const first = map.set('t0', 0);
    map = first;
    for (let i = 1; i < 10_000; i++) map = map.set(`t${i % 100}`, i);
    expect(map.get('t0')).toBe(9_900);
    // The first version still reads as it was, and the newest again after it.
    expect([...first]).toEqual([['t0', 0]]);
    expect(map.get('t99')).toBe(9_999);
    expect(map.size).toBe(100);
  });
});
