// Memoizing a synchronous computation that is a pure function of the files it reads: while it runs,
// every synchronous read, stat and listing of fs/safeRead records the path with its state (size,
// mtime, inode, or absent) as seen before the read. The result stays valid while every recorded path
// still has that state, so a change to any file it read, or a file appearing where a lookup found
// none (an include path candidate), computes it again. No watcher needed; checking costs one stat
// per recorded path.
import * as fs from 'node:fs';
import { dirname } from 'node:path';

type Recording = Map<string, string>;
let recording: Recording | undefined;

/** The state of a path that decides whether what was read from it still holds ('-': absent). */
function stateOf(path: string): string {
  try {
    const st = fs.statSync(path, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return '-';
  }
}

/** Recorded for a path found absent: its nearest existing ancestor's state decides (see noteRead). */
const VIA_ANCESTOR = '';

/** Called by fs/safeRead's synchronous reads before they touch `path`. */
export function noteRead(path: string): void {
  if (!recording || recording.has(path)) return;
  const state = stateOf(path);
  if (state !== '-') {
    recording.set(path, state);
    return;
  }
  // Nothing can appear at an absent path without a new entry in its nearest existing ancestor,
  // which changes that folder's mtime; an include search probes many absent names in few folders.
  recording.set(path, VIA_ANCESTOR);
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (recording.has(dir) && recording.get(dir) !== VIA_ANCESTOR) return;
    const s = stateOf(dir);
    if (s !== '-' || dir === dirname(dir)) {
      recording.set(dir, s);
      return;
    }
  }
}

function recorded<T>(compute: () => T): { value: T; reads: Recording } {
  const outer = recording;
  const mine: Recording = new Map();
  recording = mine;
  try {
    return { value: compute(), reads: mine };
  } finally {
    recording = outer;
    // A memo computed inside another one: the outer one depends on the same files.
    if (outer) for (const [p, s] of mine) if (!outer.has(p)) outer.set(p, s);
  }
}

function stillHolds(reads: Recording): boolean {
  for (const [p, s] of reads) if (s !== VIA_ANCESTOR && stateOf(p) !== s) return false;
  return true;
}

/**
 * Results of a synchronous computation over files, by key, each kept while the files it read are
 * unchanged (the header). Bounded: the least recently used entry goes first.
 */
export class FileStateMemo<T> {
  private entries = new Map<string, { value: T; reads: Recording }>();

  constructor(private readonly max = 32) {}

  get(key: string, compute: () => T): T {
    const hit = this.entries.get(key);
    if (hit && stillHolds(hit.reads)) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      // An outer memo being computed depends on what this hit read.
      if (recording) for (const [p, s] of hit.reads) if (!recording.has(p)) recording.set(p, s);
      return hit.value;
    }
    const r = recorded(compute);
    this.entries.delete(key);
    this.entries.set(key, r);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
    return r.value;
  }
}
