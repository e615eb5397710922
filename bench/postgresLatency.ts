import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NewEvent } from '../src/index.js';
import { openPostgresEventStore } from '../src/postgres.js';
import { BENCH_POSTGRES_URL, benchServerUp, benchSql } from './postgresCommon.js';
import { median, report } from './report.js';

const COUNT = 500;
const INTERVAL_MS = 10;
const SCHEMA = 'moai_bench_latency';
const child = join(dirname(fileURLToPath(import.meta.url)), 'postgresLatencyChild.mjs');

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/** Subscription latency: an append in this process to its delivery to a subscriber in another (LISTEN/NOTIFY), median and p99. */
export async function benchPostgresLatency(): Promise<boolean> {
  if (!(await benchServerUp())) return false;
  await benchSql(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  const store = await openPostgresEventStore({ url: BENCH_POSTGRES_URL, schema: SCHEMA });
  const subscriber = spawn(process.execPath, [child, BENCH_POSTGRES_URL, SCHEMA, String(COUNT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const ready = new Promise<void>((resolve) =>
    subscriber.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (output.startsWith('ready\n')) resolve();
    }),
  );
  const done = new Promise<void>((resolve) => subscriber.on('close', () => resolve()));
  await ready;
  for (let i = 0; i < COUNT; i++) {
    const sent = process.hrtime.bigint();
    const event = { id: `latency-${i}`, type: 'TaskAdded', data: { taskId: `t${i}`, title: String(sent) }, meta: { at: new Date().toISOString() } } as NewEvent;
    await store.append('session-latency', [event]);
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
  }
  await done;
  await store.close();
  await benchSql(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  const latencies = JSON.parse(output.slice('ready\n'.length)) as number[];
  const p50 = median(latencies);
  const p99 = percentile(latencies, 99);
  report(`PostgreSQL subscription latency, append called in one process to delivery in another (${COUNT} appends, ${INTERVAL_MS} ms apart): median`, p50, 'ms', []);
  console.log(`  p99: ${p99.toFixed(2)} ms   aim <= 20 ms: ${p99 <= 20 ? 'met' : 'NOT MET'}   (max ${Math.max(...latencies).toFixed(2)} ms)`);
  return p99 <= 20;
}
