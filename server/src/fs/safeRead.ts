// Reading files from the workspace, which is input like any other: a path may name a FIFO, a
// device, a socket, a directory, a symbolic link to any of them, a file larger than memory, or a
// path longer than PATH_MAX. Everything here
//  - opens with O_RDONLY | O_NONBLOCK | O_NOCTTY (and O_NOFOLLOW unless links are to be followed):
//    opening a FIFO with O_NONBLOCK returns at once instead of waiting for a writer, so neither the
//    event loop (sync variants) nor a libuv thread (async variants) can be held by a FIFO;
//  - looks at the type with a cheap stat first (so a device is normally never even opened), and then
//    decides on fstat of the opened descriptor (so a swap between the two cannot slip through);
//  - reads only regular files, never more than `maxBytes` (a file that grows past it while being read
//    is refused too; a size of 0 is not trusted: /proc files say 0 and have content);
//  - never throws for file-system reasons: the result says what happened, with a reason to branch on
//    and a message for people.
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import { errorText } from '../common/errors';
import { decodeStrictUtf8 } from './byteEdits';
import { noteRead } from './readRecord';

/** Linux PATH_MAX (bytes, including the terminating NUL). */
export const PATH_MAX = 4096;
/** Default cap on one read: larger than any real Makefile or `.cmd` file (callers pass their own). */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

export type ReadFailureReason =
  /** FIFO, character or block device, socket, directory. */
  | 'not-regular'
  /** Larger than the cap (on fstat, or grew past it while being read). */
  | 'too-large'
  /** Permission denied, I/O error, symlink loop, anything else the kernel refused. */
  | 'unreadable'
  /** ENOENT / ENOTDIR (a path component is not a directory). */
  | 'missing'
  /** ENAMETOOLONG or longer than PATH_MAX before asking the kernel. */
  | 'path-too-long'
  /** The path is a symbolic link and `followSymlinks` was false. */
  | 'symlink';

export interface ReadFailure {
  ok: false;
  reason: ReadFailureReason;
  /** "PATH: what happened", ready to show. */
  message: string;
  path: string;
  /** errno code when the kernel said no (EACCES, ELOOP, ...). */
  code?: string;
}

export interface SafeOpenOptions {
  /**
   * Follow a symbolic link at the last component (default true: Kbuild's `source` link and linked
   * trees are normal). Intermediate directories are always resolved by the kernel as usual.
   */
  followSymlinks?: boolean;
  /** Refuse regular files larger than this many bytes (default DEFAULT_MAX_BYTES). */
  maxBytes?: number;
}

export interface OpenedRegular {
  ok: true;
  /** Open for reading; the caller closes it. */
  fh: fsp.FileHandle;
  /** fstat of the opened descriptor (the file that will be read, whatever happened to the path). */
  stat: fs.Stats;
  path: string;
}
export interface OpenedRegularSync {
  ok: true;
  fd: number;
  stat: fs.Stats;
  path: string;
}

export interface ReadBytesOk {
  ok: true;
  bytes: Buffer;
  /** fstat of the descriptor the bytes were read from. */
  stat: fs.Stats;
  path: string;
}
export interface ReadTextOk extends Omit<ReadBytesOk, 'ok'> {
  ok: true;
  text: string;
  /** How `text` was decoded from `bytes` (see decodeText). */
  encoding: TextEncodingName;
}
export type ReadBytesResult = ReadBytesOk | ReadFailure;
export type ReadTextResult = ReadTextOk | ReadFailure;
export type OpenResult = OpenedRegular | ReadFailure;
export type OpenResultSync = OpenedRegularSync | ReadFailure;

// ---- messages --------------------------------------------------------------------------------

/** What a non-regular file is, for messages ("a FIFO (named pipe)", "a character device", ...). */
export function typeName(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function fail(path: string, reason: ReadFailureReason, message: string, code?: string): ReadFailure {
  return { ok: false, reason, message: `${path}: ${message}`, path, ...(code ? { code } : {}) };
}

function fromError(path: string, e: unknown, follow: boolean): ReadFailure {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const msg = errorText(e);
  switch (code) {
    case 'ENOENT':
      return fail(path, 'missing', 'no such file', code);
    case 'ENOTDIR':
      return fail(path, 'missing', 'a component of the path is not a directory', code);
    case 'ENAMETOOLONG':
      return fail(path, 'path-too-long', 'path too long (ENAMETOOLONG)', code);
    case 'ELOOP':
      // With O_NOFOLLOW, ELOOP means "the last component is a link".
      return follow
        ? fail(path, 'unreadable', 'too many levels of symbolic links', code)
        : fail(path, 'symlink', 'is a symbolic link (not followed)', code);
    case 'EACCES':
    case 'EPERM':
      return fail(path, 'unreadable', `permission denied (${code})`, code);
    case 'EISDIR':
      return fail(path, 'not-regular', 'is a directory', code);
    case 'ENXIO':
    case 'ENODEV':
      return fail(path, 'not-regular', `not a regular file (${code})`, code);
    default:
      return fail(path, 'unreadable', `cannot read: ${msg}`, code);
  }
}

/** Fails early for paths the kernel would refuse anyway (and that would make slow error paths). */
function checkPath(path: string): ReadFailure | null {
  if (path.length === 0) return fail(path, 'missing', 'empty path');
  if (path.includes('\0')) return fail(path, 'missing', 'path contains a NUL byte');
  if (Buffer.byteLength(path) >= PATH_MAX)
    return fail(
      path.slice(0, 200) + '…',
      'path-too-long',
      `path of ${Buffer.byteLength(path)} bytes is longer than PATH_MAX (${PATH_MAX})`,
    );
  return null;
}

function checkStat(path: string, st: fs.Stats, maxBytes: number): ReadFailure | null {
  if (!st.isFile()) return fail(path, 'not-regular', `is ${typeName(st)}, not a regular file; not read`);
  if (st.size > maxBytes)
    return fail(path, 'too-large', `${st.size} bytes is larger than the ${maxBytes}-byte limit; not read`);
  return null;
}

function openFlags(follow: boolean): number {
  const c = fs.constants;
  return c.O_RDONLY | c.O_NONBLOCK | c.O_NOCTTY | (follow ? 0 : c.O_NOFOLLOW);
}

// ---- async -----------------------------------------------------------------------------------

/**
 * Opens `path` for reading if, and only if, it is a regular file within `maxBytes`; the type is
 * decided on the opened descriptor. The caller owns (and closes) `fh`. Never throws.
 */
export async function openRegular(path: string, opts: SafeOpenOptions = {}): Promise<OpenResult> {
  const follow = opts.followSymlinks !== false;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const bad = checkPath(path);
  if (bad) return bad;
  // A pre-check so that devices are normally not even opened (opening some has side effects).
  try {
    const pre = follow ? await fsp.stat(path) : await fsp.lstat(path);
    if (!follow && pre.isSymbolicLink()) return fail(path, 'symlink', 'is a symbolic link (not followed)');
    const no = checkStat(path, pre, maxBytes);
    if (no) return no;
  } catch (e) {
    return fromError(path, e, follow);
  }
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, openFlags(follow));
  } catch (e) {
    return fromError(path, e, follow);
  }
  try {
    const st = await fh.stat();
    const no = checkStat(path, st, maxBytes);
    if (no) {
      await fh.close();
      return no;
    }
    return { ok: true, fh, stat: st, path };
  } catch (e) {
    await fh.close().catch(() => undefined);
    return fromError(path, e, follow);
  }
}

/** Reads at most `maxBytes` (+1 to detect growth) from an open regular file, from offset 0. */
async function readBounded(fh: fsp.FileHandle, size: number, maxBytes: number): Promise<Buffer | 'too-large'> {
  // Start with the fstat size (plus one byte to see EOF or growth); grow when the file says 0 or grew.
  let buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(size + 1, 4096)));
  let n = 0;
  for (;;) {
    if (n === buf.length) {
      if (buf.length > maxBytes) return 'too-large';
      const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
      buf.copy(bigger, 0, 0, n);
      buf = bigger;
    }
    const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  if (n > maxBytes) return 'too-large';
  return buf.subarray(0, n);
}

/** The bytes of a regular file (bounded by `maxBytes`), or why not. Never throws. */
export async function readRegularFile(path: string, opts: SafeOpenOptions = {}): Promise<ReadBytesResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const o = await openRegular(path, opts);
  if (!o.ok) return o;
  try {
    const r = await readBounded(o.fh, o.stat.size, maxBytes);
    if (r === 'too-large')
      return fail(path, 'too-large', `grew past the ${maxBytes}-byte limit while being read; not read`);
    return { ok: true, bytes: r, stat: o.stat, path };
  } catch (e) {
    return fromError(path, e, opts.followSymlinks !== false);
  } finally {
    await o.fh.close().catch(() => undefined);
  }
}

/** Like readRegularFile, decoded with decodeText (UTF-8 when valid, else Latin-1: lossless). */
export async function readRegularText(path: string, opts: SafeOpenOptions = {}): Promise<ReadTextResult> {
  const r = await readRegularFile(path, opts);
  if (!r.ok) return r;
  const d = decodeText(r.bytes);
  return { ...r, text: d.text, encoding: d.encoding };
}

// ---- sync (the same rules; for the CLI and the synchronous analysis paths) -------------------

export function openRegularSync(path: string, opts: SafeOpenOptions = {}): OpenResultSync {
  noteRead(path);
  const follow = opts.followSymlinks !== false;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const bad = checkPath(path);
  if (bad) return bad;
  let fd: number;
  try {
    const pre = follow ? fs.statSync(path) : fs.lstatSync(path);
    if (!follow && pre.isSymbolicLink()) return fail(path, 'symlink', 'is a symbolic link (not followed)');
    const no = checkStat(path, pre, maxBytes);
    if (no) return no;
    fd = fs.openSync(path, openFlags(follow));
  } catch (e) {
    return fromError(path, e, follow);
  }
  try {
    const st = fs.fstatSync(fd);
    const no = checkStat(path, st, maxBytes);
    if (no) {
      fs.closeSync(fd);
      return no;
    }
    return { ok: true, fd, stat: st, path };
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already failing */
    }
    return fromError(path, e, follow);
  }
}

export function readRegularFileSync(path: string, opts: SafeOpenOptions = {}): ReadBytesResult {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const o = openRegularSync(path, opts);
  if (!o.ok) return o;
  try {
    let buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(o.stat.size + 1, 4096)));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (buf.length > maxBytes)
          return fail(path, 'too-large', `grew past the ${maxBytes}-byte limit while being read; not read`);
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const r = fs.readSync(o.fd, buf, n, buf.length - n, n);
      if (r === 0) break;
      n += r;
    }
    if (n > maxBytes) return fail(path, 'too-large', `grew past the ${maxBytes}-byte limit while being read; not read`);
    return { ok: true, bytes: buf.subarray(0, n), stat: o.stat, path };
  } catch (e) {
    return fromError(path, e, opts.followSymlinks !== false);
  } finally {
    try {
      fs.closeSync(o.fd);
    } catch {
      /* nothing to do */
    }
  }
}

export function readRegularTextSync(path: string, opts: SafeOpenOptions = {}): ReadTextResult {
  const r = readRegularFileSync(path, opts);
  if (!r.ok) return r;
  const d = decodeText(r.bytes);
  return { ...r, text: d.text, encoding: d.encoding };
}

// ---- decoding ---------------------------------------------------------------------------------

export type TextEncodingName = 'utf8' | 'latin1';
/**
 * Decodes file bytes losslessly: UTF-8 when the bytes are valid UTF-8 (a BOM is kept as U+FEFF),
 * otherwise Latin-1, where every byte is one UTF-16 unit (U+0000–U+00FF), so no byte is ever
 * replaced by U+FFFD and `encodeText(decodeText(b))` is `b` in both cases. safeWrite uses the same
 * rule to map edit positions back to bytes.
 */
export function decodeText(bytes: Uint8Array): { text: string; encoding: TextEncodingName } {
  const text = decodeStrictUtf8(bytes);
  if (text !== undefined) return { text, encoding: 'utf8' };
  return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'), encoding: 'latin1' };
}

// ---- directories and stat --------------------------------------------------------------------

export type StatResult = { ok: true; stat: fs.Stats; path: string } | ReadFailure;

/** stat (or lstat when `followSymlinks` is false) that never throws; no type requirement. */
export async function statSafe(path: string, opts: { followSymlinks?: boolean } = {}): Promise<StatResult> {
  const follow = opts.followSymlinks !== false;
  const bad = checkPath(path);
  if (bad) return bad;
  try {
    return { ok: true, stat: follow ? await fsp.stat(path) : await fsp.lstat(path), path };
  } catch (e) {
    return fromError(path, e, follow);
  }
}

/** The stats of a path, or undefined when it cannot be stat'ed (absent, unreadable, a bad path). */
export async function statOrUndefined(path: string): Promise<fs.Stats | undefined> {
  const st = await statSafe(path);
  return st.ok ? st.stat : undefined;
}

/** statSafe without the thread pool, for batch commands over many paths. */
export function statSafeSync(path: string, opts: { followSymlinks?: boolean } = {}): StatResult {
  noteRead(path);
  const follow = opts.followSymlinks !== false;
  const bad = checkPath(path);
  if (bad) return bad;
  try {
    return { ok: true, stat: follow ? fs.statSync(path) : fs.lstatSync(path), path };
  } catch (e) {
    return fromError(path, e, follow);
  }
}

export type ReaddirResult = { ok: true; entries: fs.Dirent[]; truncated: boolean; path: string } | ReadFailure;

/**
 * The entries of a directory, at most `maxEntries` (default 100,000; `truncated` says when more
 * were there), read through opendir so a huge directory is never loaded whole. Never throws:
 * an unreadable directory is a failure with reason 'unreadable', not an empty list.
 */
export async function readdirSafe(path: string, opts: { maxEntries?: number } = {}): Promise<ReaddirResult> {
  const max = opts.maxEntries ?? 100_000;
  const bad = checkPath(path);
  if (bad) return bad;
  let dir: fs.Dir;
  try {
    dir = await fsp.opendir(path, { bufferSize: 256 });
  } catch (e) {
    const f = fromError(path, e, true);
    if (f.code === 'ENOTDIR') return fail(path, 'not-regular', 'is not a directory', f.code);
    return f;
  }
  const entries: fs.Dirent[] = [];
  let truncated = false;
  try {
    for (;;) {
      const d = await dir.read();
      if (!d) break;
      if (entries.length >= max) {
        truncated = true;
        break;
      }
      entries.push(d);
    }
    return { ok: true, entries, truncated, path };
  } catch (e) {
    return fromError(path, e, true);
  } finally {
    await dir.close().catch(() => undefined);
  }
}

/** readdirSafe without the thread pool (opendirSync, bounded the same way). Never throws. */
export function readdirSafeSync(path: string, opts: { maxEntries?: number } = {}): ReaddirResult {
  noteRead(path);
  const max = opts.maxEntries ?? 100_000;
  const bad = checkPath(path);
  if (bad) return bad;
  let dir: fs.Dir;
  try {
    dir = fs.opendirSync(path, { bufferSize: 1024 });
  } catch (e) {
    const f = fromError(path, e, true);
    if (f.code === 'ENOTDIR') return fail(path, 'not-regular', 'is not a directory', f.code);
    return f;
  }
  const entries: fs.Dirent[] = [];
  let truncated = false;
  try {
    for (let d = dir.readSync(); d; d = dir.readSync()) {
      if (entries.length >= max) {
        truncated = true;
        break;
      }
      entries.push(d);
    }
    return { ok: true, entries, truncated, path };
  } catch (e) {
    return fromError(path, e, true);
  } finally {
    try {
      dir.closeSync();
    } catch {
      /* nothing to do */
    }
  }
}

/** The names in a directory (bounded like readdirSafe), or undefined when it cannot be listed. */
export async function listNames(path: string, opts: { maxEntries?: number } = {}): Promise<string[] | undefined> {
  const r = await readdirSafe(path, opts);
  return r.ok ? r.entries.map((e) => e.name) : undefined;
}

export function listNamesSync(path: string, opts: { maxEntries?: number } = {}): string[] | undefined {
  const r = readdirSafeSync(path, opts);
  return r.ok ? r.entries.map((e) => e.name) : undefined;
}

/** True when `path` exists (after links); never throws. */
export async function existsSafe(path: string): Promise<boolean> {
  return (await statSafe(path)).ok;
}

/** The canonical path (links resolved), or undefined; never throws. */
export async function realpathSafe(path: string): Promise<string | undefined> {
  if (checkPath(path)) return undefined;
  try {
    return await fsp.realpath(path);
  } catch {
    return undefined;
  }
}

/** The type of a stat result, for modules that may not import node:fs themselves. */
export type FileStats = fs.Stats;
