// `npm run test:faults`: the fault suite at full size (MOAI_FAULTS=full:
// 100 kill -9 runs, 200 power cuts, the whole damage matrix, 8 CLI writers
// × 10 rounds, 30 handoff races) and the PostgreSQL server restart
// (test/postgres/serverRestart.test.ts), then its figures: runs, acknowledged,
// lost, duplicated, refused. Exits with vitest's status.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultFigures } from './faultFigures.js';

const folder = mkdtempSync(join(tmpdir(), 'moai-fault-figures-'));
const figuresFile = join(folder, 'figures.jsonl');
const vitest = spawnSync(process.execPath, [join('node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/faults', 'test/postgres/serverRestart', ...process.argv.slice(2)], {
  stdio: 'inherit',
  // MOAI_TEST_PG_RESTART: the PostgreSQL server restart test, kept out of `npm test` (it restarts the shared server).
  env: { ...process.env, MOAI_FAULTS: 'full', MOAI_FAULT_FIGURES: figuresFile, MOAI_TEST_PG_RESTART: '1' },
});
let figures: FaultFigures[] = [];
try {
  figures = readFileSync(figuresFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as FaultFigures);
} catch {
  // no test got as far as its figures
}
rmSync(folder, { recursive: true, force: true });
const header = ['test', 'runs', 'acknowledged', 'lost', 'duplicated', 'refused'] as const;
const rows = figures.map((f) => [f.test, String(f.runs), String(f.acknowledged), String(f.lost), String(f.duplicated), String(f.refused)]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log('\nFault suite figures');
console.log(line(header));
for (const row of rows) console.log(line(row));
const total = (key: 'runs' | 'acknowledged' | 'lost' | 'duplicated' | 'refused') => figures.reduce((sum, f) => sum + f[key], 0);
console.log(line(['total', String(total('runs')), String(total('acknowledged')), String(total('lost')), String(total('duplicated')), String(total('refused'))]));
for (const f of figures) if (f.note !== undefined) console.log(`  ${f.test}: ${f.note}`);
process.exit(vitest.status ?? 1);
