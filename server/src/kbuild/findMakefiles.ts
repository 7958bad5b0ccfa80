// Walks folders for make files that pass a cheap text prefilter (the rules' candidates). Bounded,
// cancellable, never follows symlinks, and yields to the event loop between directories.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MAX_MAKEFILE_BYTES } from '../lspExt';

const SKIP_DIRS = new Set(['.git', 'node_modules', '.cache', 'Documentation', 'include', 'LICENSES']);

export function isMakeFileName(name: string): boolean {
  return name === 'Makefile' || name === 'Kbuild' || name === 'GNUmakefile' || name === 'makefile' || name.endsWith('.mk') || /^(Makefile|Kbuild)\.[\w-]+$/.test(name);
}

export async function findMakeFiles(
  roots: string[],
  accept: (text: string) => boolean,
  token: { cancelled: boolean } = { cancelled: false },
  maxEntries = 300_000,
  onProgress?: (directoriesRead: number, found: number) => void,
): Promise<string[]> {
  const found: string[] = [];
  let seen = 0;
  let directories = 0;
  const queue = [...roots];
  while (queue.length > 0 && !token.cancelled && seen < maxEntries) {
    const dir = queue.shift() as string;
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    seen += entries.length;
    for (const e of entries) {
      if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) queue.push(path.join(dir, e.name));
      else if (e.isFile() && isMakeFileName(e.name)) {
        const p = path.join(dir, e.name);
        try {
          const st = await fs.stat(p);
          // A cheap prefilter; the rules then judge by what the file means.
          if (st.size <= MAX_MAKEFILE_BYTES && accept(await fs.readFile(p, 'utf8'))) found.push(p);
        } catch {
          continue;
        }
      }
    }
    if (++directories % 200 === 0) onProgress?.(directories, found.length);
    await new Promise((r) => setImmediate(r));
  }
  return found.sort();
}
