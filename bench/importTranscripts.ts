import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, report, settle } from './report.js';

// Issue 10: a folder of 50 transcripts (copies of the largest fixture under
// different ids, ~130 MB) imported whole, against ccusage@20.0.24's native
// binary (`session --json --offline` through CLAUDE_CONFIG_DIR) in the same
// run: ours, as a whole process on the compiled package, must be at least as
// fast, with flat memory. Two figures: the reading alone (the transcripts
// into their figures, the library call), and the command a user runs
// (`import claude-code --all`, which also appends every call to the log),
// with the same import again on the same folder (nothing new).

const COPIES = 50;
const ROUNDS = 7;
/** Rounds of the whole command (each a first import and a second one). */
const COMMAND_ROUNDS = 5;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixture = join(root, 'test', 'fixtures', 'claude-code', 'transcripts', 'spotter-manual-compact', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl');
const FIXTURE_SESSION = 'ae4a77f8-aedd-4bc1-888f-c94edc91af04';

interface Totals {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
}

interface Run {
  ms: number;
  maxRssMB?: number;
  totals: Totals;
}

/**
 * 50 copies of the fixture under `<config>/projects/-bench-import/`, each a
 * session of its own: the session id is rewritten, and so are the message
 * ids (same length), since ccusage counts a message id + request id once
 * over all files; with the ids left alone it would count one copy's tokens.
 */
async function writeFolder(): Promise<{ config: string; files: string[]; bigFile: string }> {
  const config = await mkdtemp(join(tmpdir(), 'moai-bench-import-'));
  const project = join(config, 'projects', '-bench-import');
  await mkdir(project, { recursive: true });
  const text = readFileSync(fixture, 'utf8');
  const files: string[] = [];
  const copies: string[] = [];
  for (let copy = 1; copy <= COPIES; copy++) {
    const sessionId = FIXTURE_SESSION.slice(0, -4) + copy.toString(16).padStart(4, '0');
    const body = text.replaceAll(FIXTURE_SESSION, sessionId).replaceAll('"msg_01', `"msg_${copy.toString(36).padStart(2, '0')}`);
    const file = join(project, `${sessionId}.jsonl`);
    await writeFile(file, body);
    // Past sessions, at rest (a file changed in the last minute is taken as still being written).
    const past = new Date(Date.now() - 3_600_000);
    await utimes(file, past, past);
    files.push(file);
    copies.push(body);
  }
  // The same bytes as one file, outside the projects folder: memory must not grow with a file's size.
  const bigFile = join(config, 'one-big-session.jsonl');
  await writeFile(bigFile, copies.join(''));
  return { config, files, bigFile };
}

/**
 * The compiled transcript module: MOAI_TRANSCRIPT_MODULE when set; else the
 * package build's (npm run bench builds first) unless a source is newer; else
 * the module compiled here into `scratch`.
 */
function compiledModule(scratch: string): string {
  const built = join(root, 'dist', 'src', 'integrations', 'claude-code', 'transcript', 'index.js');
  const override = process.env.MOAI_TRANSCRIPT_MODULE;
  if (override !== undefined) return override;
  const sources = join(root, 'src', 'integrations', 'claude-code', 'transcript');
  const newest = Math.max(...readdirSync(sources).map((name) => statSync(join(sources, name)).mtimeMs));
  if (existsSync(built) && statSync(built).mtimeMs >= newest) return built;
  const out = join(scratch, 'compiled');
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--outDir', out, '--rootDir', join(root, 'src'), '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--lib', 'ES2023', '--strict', '--skipLibCheck', '--types', 'node', ...['index.ts', 'digestWorker.ts'].map((name) => join(root, 'src', 'integrations', 'claude-code', 'transcript', name))],
    { stdio: 'inherit' },
  );
  return join(out, 'integrations', 'claude-code', 'transcript', 'index.js');
}

/** The child's script: import every main transcript of the projects folder, one summary per session, and print the sums and peak RSS. */
const childScript = (moduleUrl: string, files: string[]): string => `
const { summariseTranscriptSessions } = await import(${JSON.stringify(moduleUrl)});
const summaries = await summariseTranscriptSessions(${JSON.stringify(files)});
const totals = { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 };
for (const s of summaries) for (const k of Object.keys(totals)) totals[k] += s.tokens[k];
// VmHWM, the peak RSS of this process's memory alone: getrusage's maxrss keeps, across exec, the parent's.
const status = (await import('node:fs')).readFileSync('/proc/self/status', 'utf8');
const hwm = /VmHWM:\\s+(\\d+) kB/.exec(status);
const maxRssMB = (hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS) / 1024;
process.stdout.write(JSON.stringify({ totals, maxRssMB }));
`;

function runOurs(moduleUrl: string, files: string[]): Run {
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', childScript(moduleUrl, files)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`the import child exited ${result.status}: ${result.stderr}`);
  const { totals, maxRssMB } = JSON.parse(result.stdout) as { totals: Totals; maxRssMB: number };
  return { ms, maxRssMB, totals };
}

/** ccusage's native binary (the npm package's launcher only starts it), executable. */
function ccusageBinary(): string {
  const require = createRequire(import.meta.url);
  const exe = process.platform === 'win32' ? 'ccusage.exe' : 'ccusage';
  const binary = join(dirname(require.resolve(`@ccusage/ccusage-${process.platform}-${process.arch}/package.json`)), 'bin', exe);
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    // npm unpacks it without the execute bit; ccusage's own launcher sets it the same way.
    chmodSync(binary, statSync(binary).mode | 0o111);
  }
  return binary;
}

const timeCommand = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function runCcusage(binary: string, config: string): Run {
  const env = { ...process.env, CLAUDE_CONFIG_DIR: config };
  const args = ['session', '--json', '--offline'];
  const started = performance.now();
  // /usr/bin/time adds a fork and an exec (~1 ms) and gives ccusage's peak RSS.
  const result = timeCommand
    ? spawnSync(timeCommand, ['-f', '%M', binary, ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync(binary, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`ccusage exited ${result.status}: ${result.stderr}`);
  const out = JSON.parse(result.stdout) as { totals: { inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number } };
  const t = out.totals;
  const run: Run = { ms, totals: { input: t.inputTokens, output: t.outputTokens, cacheCreation: t.cacheCreationTokens, cacheRead: t.cacheReadTokens } };
  const rssKB = timeCommand ? Number(result.stderr.trim().split('\n').pop()) : NaN;
  if (Number.isFinite(rssKB)) run.maxRssMB = rssKB / 1024;
  return run;
}

/** The newest modification time of any file under `dir`. */
function newestUnder(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The compiled command line: the package build's (npm run bench builds
 * first) unless a source is newer, else the package compiled here into
 * `scratch` (no type check, as the build does).
 */
function compiledCli(scratch: string): string {
  const built = join(root, 'dist', 'src', 'cli', 'main.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newestUnder(join(root, 'src'))) return built;
  const out = join(scratch, 'package');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--noCheck', '--outDir', out], { stdio: 'inherit' });
  // The package's dependencies and its package.json (ES modules), as beside the package's own build.
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'), 'dir');
  copyFileSync(join(root, 'package.json'), join(out, 'package.json'));
  return join(out, 'src', 'cli', 'main.js');
}

/** `moai-session import claude-code --all` in `cwd` (its state folder), on the projects folder of `config`: wall time, peak RSS, and the tokens of its --json figures. */
function runImportCommand(cli: string, config: string, cwd: string): Run {
  const env = { ...process.env, CLAUDE_CONFIG_DIR: config };
  const args = [cli, '--json', 'import', 'claude-code', '--all'];
  const started = performance.now();
  const result = timeCommand
    ? spawnSync(timeCommand, ['-f', '%M', process.execPath, ...args], { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`import claude-code exited ${result.status}: ${result.stderr}`);
  const sessions = JSON.parse(result.stdout) as { tokens: Totals }[];
  const totals = { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 };
  for (const session of sessions) for (const k of Object.keys(totals) as (keyof Totals)[]) totals[k] += session.tokens[k];
  const run: Run = { ms, totals };
  const rssKB = timeCommand ? Number(result.stderr.trim().split('\n').pop()) : NaN;
  if (Number.isFinite(rssKB)) run.maxRssMB = rssKB / 1024;
  return run;
}

/**
 * The command itself, as a user runs it: `import claude-code --all` into a
 * new state folder (every API call appended to the log as an event, the
 * tasks, compactions and cursors with them), then again on the same folder
 * (nothing new), against ccusage on the same files, in paired rounds.
 */
async function benchImportCommand(config: string, mb: number, binary: string, expected: Totals): Promise<boolean> {
  const cli = compiledCli(config);
  const first: Run[] = [];
  const again: Run[] = [];
  const theirs: Run[] = [];
  const ratios: number[] = [];
  const againRatios: number[] = [];
  for (let round = 0; round < COMMAND_ROUNDS; round++) {
    const cwd = await mkdtemp(join(tmpdir(), 'moai-bench-import-state-'));
    try {
      if (round % 2 === 0) {
        first.push(runImportCommand(cli, config, cwd));
        theirs.push(runCcusage(binary, config));
      } else {
        theirs.push(runCcusage(binary, config));
        first.push(runImportCommand(cli, config, cwd));
      }
      again.push(runImportCommand(cli, config, cwd));
    } finally {
      await settle(cwd);
    }
    ratios.push(theirs[round]!.ms / first[round]!.ms);
    againRatios.push(again[round]!.ms / first[round]!.ms);
  }
  const firstMs = median(first.map((r) => r.ms));
  const theirsMs = median(theirs.map((r) => r.ms));
  const agree = first.every((r) => sameTotals(r.totals, expected)) && again.every((r) => sameTotals(r.totals, expected));
  const rateOk = report(
    `moai-session import claude-code --all of the same ${COPIES} transcripts into a new state folder, whole process (every call an event in the log; ${COMMAND_ROUNDS} paired rounds, medians)`,
    mb / (firstMs / 1000),
    'MB/s',
    [{ baseline: 'ccusage@20.0.24 session --json --offline (native)', baselineValue: mb / (theirsMs / 1000), ratio: median(ratios), target: { min: 1.0, label: '>= 1.0x' } }],
  );
  console.log(`  wall times: ours ${first.map((r) => r.ms.toFixed(0)).join(' ')} ms; ccusage ${theirs.map((r) => r.ms.toFixed(0)).join(' ')} ms; peak RSS ${Math.max(...first.map((r) => r.maxRssMB ?? 0)).toFixed(0)} MB`);
  const againOk = report(
    '  The same import again (nothing new), against the first',
    median(again.map((r) => r.ms)),
    'ms',
    [{ baseline: 'the first import', baselineValue: firstMs, ratio: median(againRatios), target: { max: 0.5, label: '<= 0.5x' } }],
  );
  console.log(`  token totals of both, against the reading above: ${agree ? 'agree' : 'DIFFER'}`);
  return rateOk && againOk && agree;
}

const sameTotals = (a: Totals, b: Totals): boolean =>
  a.input === b.input && a.output === b.output && a.cacheCreation === b.cacheCreation && a.cacheRead === b.cacheRead;

/**
 * Import of 50 transcripts (~130 MB) against ccusage@20.0.24 on the same
 * files, whole processes, in paired rounds (each goes first in turn); also
 * checks that both count the same tokens, and reports peak RSS, including
 * that of one file holding all 50 copies (streaming: it must stay flat).
 */
export async function benchImportTranscripts(): Promise<boolean> {
  const { config, files, bigFile } = await writeFolder();
  try {
    const moduleUrl = pathToFileURL(compiledModule(config)).href;
    const binary = ccusageBinary();
    const bytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
    // One run of each first, not timed: the page cache holds the files for both alike.
    const warmOurs = runOurs(moduleUrl, files);
    const warmTheirs = runCcusage(binary, config);
    const agree = sameTotals(warmOurs.totals, warmTheirs.totals);
    const ours: Run[] = [];
    const theirs: Run[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        ours.push(runOurs(moduleUrl, files));
        theirs.push(runCcusage(binary, config));
      } else {
        theirs.push(runCcusage(binary, config));
        ours.push(runOurs(moduleUrl, files));
      }
      // A rate ratio: ccusage's time over ours (higher is better).
      ratios.push(theirs[round]!.ms / ours[round]!.ms);
    }
    const mb = bytes / (1 << 20);
    const oursMs = median(ours.map((r) => r.ms));
    const theirsMs = median(theirs.map((r) => r.ms));
    const rateOk = report(
      `Reading ${COPIES} Claude Code transcripts (${mb.toFixed(0)} MB) into their figures (summariseTranscriptSessions, nothing appended), whole process on the compiled package (${ROUNDS} paired rounds, medians)`,
      mb / (oursMs / 1000),
      'MB/s',
      [{ baseline: 'ccusage@20.0.24 session --json --offline (native)', baselineValue: mb / (theirsMs / 1000), ratio: median(ratios), target: { min: 1.0, label: '>= 1.0x' } }],
    );
    const sorted = [...ratios].sort((a, b) => a - b);
    console.log(`  the rounds' ratios: ${ratios.map((r) => r.toFixed(2)).join(' ')} (min ${sorted[0]!.toFixed(2)}, max ${sorted.at(-1)!.toFixed(2)})`);
    console.log(`  wall times: ours ${ours.map((r) => r.ms.toFixed(0)).join(' ')} ms; ccusage ${theirs.map((r) => r.ms.toFixed(0)).join(' ')} ms`);
    console.log(
      `  token totals ${agree ? 'agree' : 'DIFFER'}: ours ${JSON.stringify(warmOurs.totals)}` + (agree ? '' : `, ccusage ${JSON.stringify(warmTheirs.totals)}`),
    );

    const peak = Math.max(...ours.map((r) => r.maxRssMB ?? 0));
    const theirPeaks = theirs.map((r) => r.maxRssMB).filter((v): v is number => v !== undefined);
    const big = runOurs(moduleUrl, [bigFile]);
    const rssOk = report(
      `  Peak RSS of that import`,
      peak,
      'MB',
      theirPeaks.length > 0 ? [{ baseline: 'ccusage', baselineValue: Math.max(...theirPeaks), ratio: Math.max(...theirPeaks) / peak }] : [],
    );
    console.log(`  the same ${mb.toFixed(0)} MB as one file: peak RSS ${big.maxRssMB!.toFixed(0)} MB, ${big.ms.toFixed(0)} ms (one thread: a file is not split)`);
    const flat = peak < 200 && big.maxRssMB! < 200 && sameTotals(big.totals, warmOurs.totals);
    console.log(`  target < 200 MB, in both: ${flat ? 'met' : 'NOT MET'}`);
    const commandOk = await benchImportCommand(config, mb, binary, warmTheirs.totals);
    return rateOk && rssOk && agree && flat && commandOk;
  } finally {
    await rm(config, { recursive: true, force: true });
  }
}

// Run alone: node --import tsx bench/importTranscripts.ts
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const ok = await benchImportTranscripts();
  process.exitCode = ok ? 0 : 1;
}

