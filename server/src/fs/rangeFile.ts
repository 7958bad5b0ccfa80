// A regular file read by byte ranges (objects: headers, section tables, blocks), never slurped.
// It is opened like every workspace read (safeRead.openRegularSync: O_NONBLOCK, regular files only,
// decided on the opened descriptor), so a FIFO or a device named like an object is refused at once
// instead of holding the caller. No size cap: each read is bounded by the caller's range.
import * as fs from 'node:fs';
import { openRegularSync, type FileStats, type ReadFailure, type SafeOpenOptions } from './safeRead';

export interface RangeFile {
  readonly path: string;
  /** fstat of the opened descriptor. */
  readonly stat: FileStats;
  readonly size: number;
  /** Reads into `buf[offset, offset+length)` from file position `position`; bytes read (0 at EOF). Throws on I/O errors. */
  readAt(buf: Buffer, offset: number, length: number, position: number): number;
  close(): void;
}

/** Opens `path` for range reads if it is a regular file; never throws (the result says why not). */
export function openRangeFile(
  path: string,
  opts: Pick<SafeOpenOptions, 'followSymlinks'> = {},
): { ok: true; file: RangeFile } | ReadFailure {
  const o = openRegularSync(path, { ...opts, maxBytes: Number.MAX_SAFE_INTEGER });
  if (!o.ok) return o;
  const { fd, stat } = o;
  let closed = false;
  return {
    ok: true,
    file: {
      path,
      stat,
      size: stat.size,
      readAt: (buf, offset, length, position) => fs.readSync(fd, buf, offset, length, position),
      close: () => {
        if (closed) return;
        closed = true;
        fs.closeSync(fd);
      },
    },
  };
}
