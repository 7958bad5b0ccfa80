// Walks folders for make files that pass a cheap text prefilter (the rules' candidates). Bounded,
// cancellable, never follows symlinks, regular files only, and never holds the event loop for more
// than a time slice (fs/walk: synchronous batched reads, the speed of `find`).
import { walkTree } from '../fs/walk';
import { MAX_MAKEFILE_BYTES } from '../lspExt';

const SKIP_DIRS = new Set(['.git', 'node_modules', '.cache', 'Documentation', 'include', 'LICENSES']);

export function isMakeFileName(name: string): boolean {
  return (
    name === 'Makefile' ||
    name === 'Kbuild' ||
    name === 'GNUmakefile' ||
    name === 'makefile' ||
    name.endsWith('.mk') ||
    /^(Makefile|Kbuild)\.[\w-]+$/.test(name)
  );
}

export interface MakeFileSearch {
  files: string[];
  /** The text each found file had when the walk read it (so a caller need not read it again). */
  texts: Map<string, string>;
  /** What the walk could not look into: unreadable folders, files it could not read, a cut walk. */
  incomplete: string[];
}

export interface MakeFileSearchOptions {
  token?: { cancelled: boolean };
  maxEntries?: number;
  onProgress?: (directoriesRead: number, found: number) => void;
  /** See WalkOptions.onSlice and sliceMs. */
  onSlice?: (ms: number) => void;
  sliceMs?: number;
}

export async function findMakeFiles(
  roots: string[],
  accept: (text: string) => boolean,
  opts: MakeFileSearchOptions = {},
): Promise<MakeFileSearch> {
  const texts = new Map<string, string>();
  const walked = await walkTree(
    roots,
    {
      enterDir: (name) => !SKIP_DIRS.has(name) && !name.startsWith('.'),
      wantFile: isMakeFileName,
      // A cheap prefilter; then the rules judge by what the file means.
      onFile: (file, text) => {
        if (accept(text)) texts.set(file, text);
      },
      onLink: (file) =>
        `${file}: a symbolic link; links inside a tree are not followed (open or check the file itself)`,
    },
    {
      token: opts.token,
      maxEntries: opts.maxEntries,
      maxBytes: MAX_MAKEFILE_BYTES,
      onSlice: opts.onSlice,
      sliceMs: opts.sliceMs,
      onProgress: (dirs) => opts.onProgress?.(dirs, texts.size),
    },
  );
  return { files: [...texts.keys()].sort(), texts, incomplete: walked.incomplete };
}
