import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import type { AnyStateMachine } from 'xstate';
import { InvalidArgumentError } from '../errors.js';

/** The machines `viz machine` knows by name. */
export const BUILT_IN_MACHINES = ['task', 'session'] as const;

/** True for an XState machine (from any copy of XState: a custom module may bring its own). */
export function isStateMachine(value: unknown): value is AnyStateMachine {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { root?: unknown; config?: unknown; transition?: unknown; id?: unknown };
  return typeof candidate.root === 'object' && candidate.root !== null && typeof candidate.config === 'object' && typeof candidate.transition === 'function';
}

/**
 * The machine a `viz machine` argument names: `task` (the task lifecycle),
 * `session` (the session lifecycle), or the path of a module (relative to
 * `cwd`) that exports one. A module exporting several machines needs
 * `exportName`; a TypeScript module needs a loader such as tsx in the process.
 *
 * @throws {InvalidArgumentError} naming the module and what is wrong with it.
 */
export async function loadMachine(name: string, cwd: string, exportName?: string): Promise<AnyStateMachine> {
  if (name === 'task') return (await import('../../machines/taskLifecycle.js')).taskLifecycleMachine;
  if (name === 'session') return (await import('../../machines/session.js')).sessionMachine;
  const path = resolve(cwd, name);
  if (!existsSync(path)) {
    throw new InvalidArgumentError(`No machine named ${JSON.stringify(name)} and no module at ${path}: name task, session, or the path of a module that exports an XState machine.`);
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    const hint = /\.[cm]?tsx?$/.test(path) ? ' (a TypeScript module needs a loader: run with node --import tsx, or point at its compiled .js)' : '';
    throw new InvalidArgumentError(`Could not import ${path}${hint}: ${(error as Error).message}`);
  }
  if (exportName !== undefined) {
    const named = module[exportName];
    if (!isStateMachine(named)) throw new InvalidArgumentError(`${path} has no XState machine exported as ${JSON.stringify(exportName)}.`);
    return named;
  }
  const machines = Object.entries(module).filter(([, value]) => isStateMachine(value));
  const distinct = [...new Set(machines.map(([, value]) => value))];
  if (distinct.length === 0) throw new InvalidArgumentError(`${path} exports no XState machine (createMachine or setup(...).createMachine).`);
  if (distinct.length > 1) {
    throw new InvalidArgumentError(`${path} exports ${distinct.length} machines (${machines.map(([key]) => key).join(', ')}): pick one with --export <name>.`);
  }
  return distinct[0] as AnyStateMachine;
}
