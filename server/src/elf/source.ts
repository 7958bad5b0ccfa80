// Byte sources for the ELF reader: a file read by ranges (never mapped or slurped), or a buffer.
import { openRangeFile, type RangeFile } from '../fs/rangeFile';
import { ObjectReadError } from './types';
import { asError, errorText } from '../common/errors';

export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset`, or ObjectReadError('truncated') when the range leaves the source. */
  read(offset: number, length: number): Promise<Buffer>;
  /** Total bytes handed out by read() so far. */
  readonly bytesRead: number;
  close(): Promise<void>;
}

/** Largest single read we allow (a lying size must not become a huge allocation). */
const MAX_READ = 256 * 1024 * 1024;

function checkRange(size: number, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new ObjectReadError('malformed', `${what}: invalid range offset ${offset} length ${length}`);
  }
  if (offset + length > size) {
    throw new ObjectReadError(
      'truncated',
      `${what}: range 0x${offset.toString(16)}+0x${length.toString(16)} goes past the end of the file (size 0x${size.toString(16)})`,
    );
  }
  if (length > MAX_READ) {
    throw new ObjectReadError(
      'malformed',
      `${what}: refusing a single read of ${length} bytes at offset 0x${offset.toString(16)}`,
    );
  }
}

/**
 * A file read by ranges with synchronous reads (each read is bounded by MAX_READ and the callers read
 * headers, tables and blocks of at most a few MB). Synchronous: no thread-pool round trip per read,
 * and the command line does not load fs/promises at start-up (fs/rangeFile opens it synchronously).
 */
class FileSource implements ByteSource {
  bytesRead = 0;
  private closed = false;
  readonly size: number;
  private readonly path: string;
  constructor(private readonly file: RangeFile) {
    this.size = file.size;
    this.path = file.path;
  }
  read(offset: number, length: number): Promise<Buffer> {
    try {
      checkRange(this.size, offset, length, this.path);
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        let n: number;
        try {
          n = this.file.readAt(buf, done, length - done, offset + done);
        } catch (e) {
          throw new ObjectReadError(
            'io',
            `${this.path}: read at offset 0x${(offset + done).toString(16)} failed: ${errorText(e)}`,
          );
        }
        if (n === 0)
          throw new ObjectReadError(
            'truncated',
            `${this.path}: file shrank while reading at offset 0x${(offset + done).toString(16)}`,
          );
        done += n;
      }
      this.bytesRead += length;
      return Promise.resolve(buf);
    } catch (e) {
      return Promise.reject(asError(e));
    }
  }
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      try {
        this.file.close();
      } catch (e) {
        return Promise.reject(asError(e));
      }
    }
    return Promise.resolve();
  }
}

/**
 * Opens an object for range reads: regular files only, opened non-blocking through fs/ (a FIFO or a
 * device named like an object is refused at once with ObjectReadError('io') saying what it is).
 */
export function openFileSource(path: string): Promise<ByteSource> {
  const o = openRangeFile(path);
  if (!o.ok)
    return Promise.reject(
      new ObjectReadError(
        'io',
        `${path}: cannot open: ${o.message.startsWith(`${path}: `) ? o.message.slice(path.length + 2) : o.message}`,
      ),
    );
  return Promise.resolve(new FileSource(o.file));
}

export function bufferSource(buf: Uint8Array): ByteSource {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let bytesRead = 0;
  return {
    size: b.length,
    get bytesRead() {
      return bytesRead;
    },
    read(offset: number, length: number): Promise<Buffer> {
      try {
        checkRange(b.length, offset, length, 'buffer');
      } catch (e) {
        return Promise.reject(e);
      }
      bytesRead += length;
      return Promise.resolve(b.subarray(offset, offset + length));
    },
    close: () => Promise.resolve(),
  };
}
