// A bounded walk of folders that reads the regular files it is asked to, at the speed of `find`:
// synchronous batched calls (opendirSync/readSync, safeRead's non-blocking regular-file reads) with no
// thread-pool round trip per call, cut into time slices so the event loop is never held for more than
// about `sliceMs` at a time, and cancellable between any two calls. The guarantees of safeRead hold:
// links inside the tree are never followed (a listing's symlink entries are reported, not entered or
// read; files are opened with O_NOFOLLOW), only regular files are read (a FIFO or a device is never
// opened for reading), every read is bounded, and the number of entries looked at is bounded.
import * as path from 'node:path';
import { readdirSafeSync, readRegularTextSync, realpathSafe } from './safeRead';

export interface WalkVisitor {
  /** Descend into the sub-folder `name` of `dir`? (never called for links) */
  enterDir(name: string, dir: string): boolean;
  /** Read the regular file `name`? */
  wantFile(name: string): boolean;
  /** The text of a wanted regular file. */
  onFile(file: string, text: string): void;
  /** A symbolic link entry that wantFile would have taken (it is not followed): a message, or undefined to say nothing. */
  onLink?(file: string, name: string): string | undefined;
}

export interface WalkOptions {
  token?: { cancelled: boolean };
  /** Stop after looking at this many directory entries (default 300,000). */
  maxEntries?: number;
  /** Largest file read (bytes). */
  maxBytes: number;
  /**
   * Longest stretch of synchronous work before yielding to the event loop, by elapsed time (default
   * 2 ms). Measured with a kernel build beside the scan (bench/scanHold.bench.ts, docs/BENCHMARKS-scan.md):
   * a slice's wall time is its CPU time plus the time the process waits for a core, and a longer
   * slice is more often cut by the scheduler; at 10 ms half the holds were over 50 ms, at 2 ms
   * the median hold is about 2 ms, for about 15% more scan time.
   */
  sliceMs?: number;
  /** Called every 200 folders and at the end. */
  onProgress?: (directoriesRead: number) => void;
  /** Called after each slice with its length in ms (for benchmarks: the event loop's longest hold). */
  onSlice?: (ms: number) => void;
}

export interface WalkResult {
  /** What the walk could not look into: unreadable folders, files it could not read, a cut walk. */
  incomplete: string[];
  directoriesRead: number;
  entriesSeen: number;
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Walks `roots` breadth first (a root given as a link is followed: it is where the user points). */
export async function walkTree(roots: string[], visitor: WalkVisitor, opts: WalkOptions): Promise<WalkResult> {
  const token = opts.token ?? { cancelled: false };
  const maxEntries = opts.maxEntries ?? 300_000;
  const sliceMs = opts.sliceMs ?? 2;
  const incomplete: string[] = [];
  const queue = await Promise.all(roots.map(async (r) => (await realpathSafe(r)) ?? r));
  let seen = 0;
  let directories = 0;
  let next = 0;
  let cut = false;
  let sliceStart = performance.now();
  const maybeYield = async (): Promise<void> => {
    const ms = performance.now() - sliceStart;
    if (ms < sliceMs) return;
    opts.onSlice?.(ms);
    await yieldToLoop();
    sliceStart = performance.now();
  };
  while (next < queue.length && !token.cancelled && seen < maxEntries) {
    const dir = queue[next++];
    const listing = readdirSafeSync(dir, { maxEntries: maxEntries - seen });
    directories++;
    if (!listing.ok) {
      incomplete.push(listing.message);
      await maybeYield();
      continue;
    }
    seen += listing.entries.length;
    if (listing.truncated) cut = true;
    for (let i = 0; i < listing.entries.length && !token.cancelled; i++) {
      const e = listing.entries[i];
      // A folder of thousands of entries is looked at in slices too.
      if ((i & 255) === 255) await maybeYield();
      if (e.isDirectory()) {
        if (visitor.enterDir(e.name, dir)) queue.push(path.join(dir, e.name));
      } else if (e.isFile()) {
        if (!visitor.wantFile(e.name)) continue;
        const file = path.join(dir, e.name);
        // Regular files only, bounded, never through a link (O_NOFOLLOW): the entry may have changed.
        const r = readRegularTextSync(file, { maxBytes: opts.maxBytes, followSymlinks: false });
        if (r.ok) visitor.onFile(file, r.text);
        else if (r.reason !== 'missing') incomplete.push(r.message);
        await maybeYield();
      } else if (e.isSymbolicLink() && visitor.wantFile(e.name)) {
        const why = visitor.onLink?.(path.join(dir, e.name), e.name);
        if (why) incomplete.push(why);
      }
    }
    if (directories % 200 === 0) opts.onProgress?.(directories);
    await maybeYield();
  }
  opts.onSlice?.(performance.now() - sliceStart);
  opts.onProgress?.(directories);
  if (token.cancelled) incomplete.push('the search was cancelled');
  else if (cut || next < queue.length)
    incomplete.push(`the search stopped after ${seen} entries (${queue.length - next} folders not read)`);
  return { incomplete, directoriesRead: directories, entriesSeen: seen };
}
