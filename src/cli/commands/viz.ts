import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { checkId } from '../../validation/ids.js';
import { CliUsageError, EXIT } from '../exitCodes.js';
import type { CliIo, GlobalOptions } from '../io.js';

/** The chart formats of `viz machine`. */
export const MACHINE_FORMATS = ['mermaid', 'dot', 'json', 'svg'] as const;

/** Options of `moai-session viz machine`. */
export interface VizMachineCommandOptions extends GlobalOptions {
  /** `task`, `session`, or the path of a module exporting a machine; `task` when absent. */
  machine: string | undefined;
  /** One of {@link MACHINE_FORMATS}, as typed; `mermaid` when absent. */
  format?: string;
  /** The export to draw, for a module exporting several machines. */
  export?: string;
  /** Write the chart to this file instead of standard output. */
  output?: string;
}

/** Write `text` to the file `output` names (relative to the working folder), or to standard output. */
export async function writeOutput(text: string, output: string | undefined, io: CliIo): Promise<void> {
  if (output === undefined || output === '-') {
    io.stdout(text.endsWith('\n') ? text : `${text}\n`);
    return;
  }
  const path = resolve(io.cwd, output);
  try {
    await writeFile(path, text.endsWith('\n') ? text : `${text}\n`);
  } catch (error) {
    throw new CliUsageError(`Cannot write ${path}: ${whyNotWritable(error as NodeJS.ErrnoException, path)}. Give -o a file in a folder that exists.`);
  }
  io.stderr(`moai-session: wrote ${path}\n`);
}

/** Why the output file could not be written, in the user's words. */
function whyNotWritable(error: NodeJS.ErrnoException, path: string): string {
  switch (error.code) {
    case 'ENOENT':
      return `the folder ${dirname(path)} does not exist`;
    case 'EISDIR':
      return 'it is a folder';
    case 'ENOTDIR':
      return `a part of ${dirname(path)} is not a folder`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return error.message;
  }
}

/** `moai-session viz machine [task|session|<module>]`: a machine's chart, drawn from its XState definition. */
export async function vizMachineCommand(options: VizMachineCommandOptions, io: CliIo): Promise<number> {
  const format = options.format ?? 'mermaid';
  if (!(MACHINE_FORMATS as readonly string[]).includes(format)) {
    throw new CliUsageError(`--format ${JSON.stringify(format)} is not one of ${MACHINE_FORMATS.join(', ')}.`);
  }
  const { loadMachine } = await import('../../viz/loadMachine.js');
  const machine = await loadMachine(options.machine ?? 'task', io.cwd, options.export);
  let text: string;
  if (format === 'mermaid') text = (await import('../../viz/mermaid.js')).toMermaid(machine);
  else if (format === 'dot') text = (await import('../../viz/dot.js')).toDot(machine);
  else if (format === 'svg') text = await (await import('../../viz/svg.js')).toSvg(machine);
  else text = JSON.stringify((await import('../../viz/machineGraph.js')).machineChart(machine), null, 2);
  await writeOutput(text, options.output, io);
  return EXIT.ok;
}

/** Options of `moai-session viz session`. */
export interface VizSessionCommandOptions extends GlobalOptions {
  /** The session as typed (its id or a unique start of it), or undefined for the current session. */
  sessionId: string | undefined;
  /** `html` (the page) or `json` (its packed data); `html` when absent. */
  format?: string;
  /** The file to write; `<sessionId>.html` in the working folder when absent, `-` for standard output. */
  output?: string;
  /** The most steps the page holds before it aggregates, as typed (default 200,000). */
  maxSteps?: string;
  /** Also write the page of every session of its fork tree (parents, children, theirs), `<id>.html` beside the output, so every fork link opens. */
  forks?: boolean;
}

/** The config's thresholds, windows and prices (the defaults when the config cannot be loaded), as `state` reads them. */
export async function pageSettings(options: GlobalOptions, io: CliIo) {
  const { loadConfig } = await import('../../config/loadConfig.js');
  const { settingsFromConfig } = await import('../../engine/settings.js');
  const { stateFolder } = await import('../stateFolder.js');
  const loaded = await loadConfig({ dir: stateFolder(options, io), env: io.env }).catch(() => undefined);
  return settingsFromConfig(loaded?.config);
}

/** `moai-session viz session [sessionId]`: one self-contained HTML page to inspect a session, offline. */
export async function vizSessionCommand(options: VizSessionCommandOptions, io: CliIo): Promise<number> {
  const format = options.format ?? 'html';
  if (format !== 'html' && format !== 'json') throw new CliUsageError(`--format ${JSON.stringify(format)} is not one of html, json.`);
  const { parsePositiveInteger } = await import('../parse.js');
  const maxSteps = parsePositiveInteger('--max-steps', options.maxSteps);
  if (options.sessionId !== undefined) checkId('session', options.sessionId);
  const { openLogForReading, sessionToRead } = await import('../stateFolder.js');
  const store = await openLogForReading(options, io);
  try {
    const sessionId = await sessionToRead(store, options, io, options.sessionId);
    const { readSessionPage, sessionPageFileName } = await import('../../viz/readSessionPage.js');
    const settings = { settings: await pageSettings(options, io), ...(maxSteps === undefined ? {} : { maxSteps }) };
    const { renderSessionPage } = await import('../../viz/sessionPage.js');
    const { data } = await readSessionPage(store, sessionId, settings);
    const output = options.output ?? (format === 'json' ? '-' : sessionPageFileName(sessionId));
    await writeOutput(format === 'json' ? JSON.stringify(data) : renderSessionPage(data), output, io);
    if (data.aggregation !== undefined) io.stderr(`moai-session: ${data.aggregation.note}\n`);
    if (options.forks === true) {
      if (format !== 'html' || output === '-') throw new CliUsageError('--forks writes HTML pages beside the output file: give -o <file>.html.');
      // Every session the fork links reach, each once, beside the first page.
      const seen = new Set([sessionId]);
      const queue = [...data.forks.children.map((c) => c.sessionId), ...(data.forks.parent ? [data.forks.parent.sessionId] : [])];
      while (queue.length > 0) {
        const next = queue.shift()!;
        if (seen.has(next)) continue;
        seen.add(next);
        const related = (await readSessionPage(store, next, settings)).data;
        await writeOutput(renderSessionPage(related), join(dirname(resolve(io.cwd, output)), sessionPageFileName(next)), io);
        queue.push(...related.forks.children.map((c) => c.sessionId), ...(related.forks.parent ? [related.forks.parent.sessionId] : []));
      }
    }
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
