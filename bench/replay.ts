import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
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
  maxRssMB: number;
}

function run(mode: 'moai' | 'raw', dir: string): ChildResult {
  const out = execFileSync(process.execPath, [child, mode, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out) as ChildResult;
}

/** Replay of a 1,000,000-event log into every projection vs raw line split + JSON.parse. */
export async function benchReplay(): Promise<boolean> {
  const dir = await writeReplayLog(EVENTS);
  const ours: ChildResult[] = [];
  const raw: ChildResult[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      ours.push(run('moai', dir));
      raw.push(run('raw', dir));
    } else {
      raw.push(run('raw', dir));
      ours.push(run('moai', dir));
    }
    ratios.push(raw[i]!.ms / ours[i]!.ms);
  }
  await rm(dirname(dir), { recursive: true, force: true });
  const events = ours[0]!.events;
  const oursRate = events / (median(ours.map((r) => r.ms)) / 1000);
  const rawRate = raw[0]!.events / (median(raw.map((r) => r.ms)) / 1000);
  const peak = Math.max(...ours.map((r) => r.maxRssMB));
  const rawPeak = Math.max(...raw.map((r) => r.maxRssMB));
  const rateOk = report(
    `Replay of a ${events.toLocaleString('en-US')}-event log into every projection, with verification (open + replay; ${ROUNDS} paired rounds, medians)`,
    oursRate,
    'events/s',
    [{ baseline: 'raw line split + JSON.parse of the same files', baselineValue: rawRate, ratio: median(ratios), target: { min: 1.0, label: '>= 1.0x' } }],
  );
  console.log(`  the rounds' ratios: ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
  const rssOk = report('  Peak RSS of that replay', peak, 'MB', [
    { baseline: 'the raw parse', baselineValue: rawPeak, ratio: rawPeak / peak },
  ]);
  console.log(`  target < 300 MB: ${peak < 300 ? 'met' : 'NOT MET'}`);
  return rateOk && rssOk && peak < 300;
}
