import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The first step of `npm run build`: write the validators compiled ahead of
 * time (see validators/render.ts). Run alone with
 * `node --import tsx scripts/generateValidators.ts`; `--check` writes nothing
 * and exits 1 when a file is out of date. A file is only rewritten when its
 * text changes, and atomically, so a failed run never leaves half a module.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const checkOnly = process.argv.includes('--check');

// The config schema module re-exports DEFAULT_CONFIG, which is read from the
// generated config module: when that is missing (a deleted folder), a stub
// lets the schemas load so the real module can be generated.
const configModule = join(root, 'src/config/generated/configCheck.ts');
if (!checkOnly && !(await access(configModule).then(() => true, () => false))) {
  await mkdir(dirname(configModule), { recursive: true });
  await writeFile(configModule, '// A stub, replaced at once by scripts/generateValidators.ts.\nexport const DEFAULT_CONFIG_DATA = {};\n');
}

const { renderGeneratedFiles } = await import('./validators/render.js');
let stale = 0;
for (const file of renderGeneratedFiles()) {
  const path = join(root, file.path);
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === file.text) continue;
  stale++;
  if (checkOnly) {
    console.error(`${file.path} is out of date: run npm run build.`);
    continue;
  }
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, file.text);
  await rename(temporary, path);
  console.log(`wrote ${file.path}`);
}
if (checkOnly && stale > 0) process.exitCode = 1;
