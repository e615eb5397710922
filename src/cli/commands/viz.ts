import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
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
  await writeFile(path, text.endsWith('\n') ? text : `${text}\n`);
  io.stderr(`moai-session: wrote ${path}\n`);
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
