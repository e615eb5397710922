import { open } from 'node:fs/promises';

/** Write `content` to `path` (created or truncated) and fsync it before returning. */
export async function writeFileSynced(path: string, content: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a folder, so that the names of files created or renamed in it survive a crash. */
export async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
