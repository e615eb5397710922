import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, report } from './report.js';
import { writeReplayLog } from './replayLog.js';

const EVENTS = 1_000_000;
// Each child takes seconds and this machine's speed drifts by tens of percent
// from minute to minute: ours and the baseline run back to back, in turn
// first, and the ratio is the median of the rounds' ratios.
const ROUNDS = 7;
const child = join(dirname(fileURLToPath(import.meta.url)), 'replayChild.mjs');

interface ChildResult {
  ms: number;
  events: number;
  /** The threads the replay ran on (1 for the raw parse). */
  threads: number;
  /** The process's CPU time, all threads. */
  cpuMs: number;
  maxRssMB: number;
}

function run(mode: 'moai' | 'moai-1' | 'raw', dir: string): ChildResult {
  const out = execFileSync(process.execPath, [child, mode, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out) as ChildResult;
}

/** Replay of a 1,000,000-event log into every projection vs raw line split + JSON.parse. */
export async function benchReplay(): Promise<boolean> {
  const dir = await writeReplayLog(EVENTS);
  const loadBefore = loadavg()[0]!;
  const ours: ChildResult[] = [];
  const raw: ChildResult[] = [];
  const oneThread: ChildResult[] = [];
  const ratios: number[] = [];
  const oneThreadRatios: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Each goes first in turn; the replay on one thread is measured in the same rounds, for comparison.
    const order: ('moai' | 'raw' | 'moai-1')[] = i % 2 === 0 ? ['moai', 'raw', 'moai-1'] : ['moai-1', 'raw', 'moai'];
    const round = new Map(order.map((mode) => [mode, run(mode, dir)] as const));
    ours.push(round.get('moai')!);
    raw.push(round.get('raw')!);
    oneThread.push(round.get('moai-1')!);
    ratios.push(raw[i]!.ms / ours[i]!.ms);
    oneThreadRatios.push(raw[i]!.ms / oneThread[i]!.ms);
  }
  await rm(dirname(dir), { recursive: true, force: true });
  // Two threads only pay when a second core is free: the load says how free the machine was.
  const load = `load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`;
  const events = ours[0]!.events;
  const oursRate = events / (median(ours.map((r) => r.ms)) / 1000);
  const rawRate = raw[0]!.events / (median(raw.map((r) => r.ms)) / 1000);
  const peak = Math.max(...ours.map((r) => r.maxRssMB));
  const rawPeak = Math.max(...raw.map((r) => r.maxRssMB));
  const rateOk = report(
    `Replay of a ${events.toLocaleString('en-US')}-event log into every projection, with verification (open + replay, on ${ours[0]!.threads} threads; ${ROUNDS} paired rounds, medians)`,
    oursRate,
    'events/s',
    [{ baseline: 'raw line split + JSON.parse of the same files', baselineValue: rawRate, ratio: median(ratios), target: { min: 1.0, label: '>= 1.0x' } }],
  );
  console.log(`  the rounds' ratios: ${ratios.map((r) => r.toFixed(2)).join(' ')} (${load})`);
  console.log(
    `  CPU time (all threads, medians): ${Math.round(median(ours.map((r) => r.cpuMs)))} ms, ` +
      `the raw parse ${Math.round(median(raw.map((r) => r.cpuMs)))} ms`,
  );
  const rssOk = report('  Peak RSS of that replay', peak, 'MB', [
    { baseline: 'the raw parse', baselineValue: rawPeak, ratio: rawPeak / peak },
  ]);
  console.log(`  target < 300 MB: ${peak < 300 ? 'met' : 'NOT MET'}`);
  const oneRate = events / (median(oneThread.map((r) => r.ms)) / 1000);
  report('  The same replay on the calling thread alone (threads: 1)', oneRate, 'events/s', [
    { baseline: 'the raw parse', baselineValue: rawRate, ratio: median(oneThreadRatios) },
  ]);
  console.log(`  CPU time ${Math.round(median(oneThread.map((r) => r.cpuMs)))} ms, peak RSS ${Math.round(Math.max(...oneThread.map((r) => r.maxRssMB)))} MB`);
  return rateOk && rssOk && peak < 300;
}
