// Walks folders for make files that pass a cheap text prefilter (the rules' candidates). Bounded,
// cancellable, never follows symlinks, and yields to the event loop between directories.
import { promises as fs } from 'node:fs';
import { readdirSafe, readRegularText } from '../fs/safeRead';
import * as path from 'node:path';
import { MAX_MAKEFILE_BYTES } from '../lspExt';

const SKIP_DIRS = new Set(['.git', 'node_modules', '.cache', 'Documentation', 'include', 'LICENSES']);

export function isMakeFileName(name: string): boolean {
  return name === 'Makefile' || name === 'Kbuild' || name === 'GNUmakefile' || name === 'makefile' || name.endsWith('.mk') || /^(Makefile|Kbuild)\.[\w-]+$/.test(name);
}

export interface MakeFileSearch {
  files: string[];
  /** What the walk could not look into: unreadable folders, files it could not read, a cut walk. */
  incomplete: string[];
}

export async function findMakeFiles(
  roots: string[],
  accept: (text: string) => boolean,
  token: { cancelled: boolean } = { cancelled: false },
  maxEntries = 300_000,
  onProgress?: (directoriesRead: number, found: number) => void,
): Promise<MakeFileSearch> {
  const found: string[] = [];
  const incomplete: string[] = [];
  let seen = 0;
  let directories = 0;
  // A root given as a link is where the user points: start from what it names.
  const queue = await Promise.all(roots.map(async (r) => fs.realpath(r).catch(() => r)));
  while (queue.length > 0 && !token.cancelled && seen < maxEntries) {
    const dir = queue.shift() as string;
    const listing = await readdirSafe(dir);
    if (!listing.ok) {
      incomplete.push(listing.message);
      continue;
    }
    const entries = listing.entries;
    seen += entries.length;
    for (const e of entries) {
      if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) queue.push(path.join(dir, e.name));
      else if (e.isFile() && isMakeFileName(e.name)) {
        const p = path.join(dir, e.name);
        // Regular files only, bounded; a cheap prefilter, then the rules judge by what the file means.
        const r = await readRegularText(p, { maxBytes: MAX_MAKEFILE_BYTES, followSymlinks: false });
        if (r.ok) {
          if (accept(r.text)) found.push(p);
        } else if (r.reason !== 'missing') incomplete.push(r.message);
      } else if (e.isSymbolicLink() && isMakeFileName(e.name)) {
        incomplete.push(`${path.join(dir, e.name)}: a symbolic link; links inside a tree are not followed (open or check the file itself)`);
      }
    }
    if (++directories % 200 === 0) onProgress?.(directories, found.length);
    await new Promise((r) => setImmediate(r));
  }
  if (token.cancelled) incomplete.push('the search was cancelled');
  else if (queue.length > 0) incomplete.push(`the search stopped after ${seen} entries (${queue.length} folders not read)`);
  return { files: found.sort(), incomplete };
}
