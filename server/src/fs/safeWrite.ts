// Replacing a file's content the way careful Unix tools do (think `sed -i` done right):
//  - a symbolic link is resolved and the file it points to is written; the link stays a link;
//  - the temp file is created in the target's own directory with O_CREAT|O_EXCL|O_NOFOLLOW and an
//    unpredictable name (a link planted at a guessed name makes the open fail; we pick another name);
//  - owner, group and mode (including setgid/sticky bits) are kept: fchown then fchmod on the temp
//    file before the rename; when they cannot be kept (not root and not the owner) we refuse;
//  - a file with no write bit (0444) is refused unless `force` (then its mode is kept);
//  - a file with more than one hard link is refused by default, because a rename would split the
//    links; `hardLinks: 'in-place'` rewrites the same inode instead (keeps every link, but is not
//    atomic: a crash in the middle leaves a partial file) — the caller decides;
//  - the file is compared with the bytes the edit was computed on (size, mtime, ctime, inode and a
//    SHA-256 of the content) right before the rename; a change refuses the write, nothing is lost;
//  - after the rename, the old inode is looked at again: a writer that appended to it in the last
//    moment (it had the file open before the rename) gets its appended bytes copied to the new file;
//    while another process still holds the old inode open (Linux /proc, bounded wait of 2 s) we wait
//    for it to close first. A non-append change in that window is saved next to the file and reported.
// Nothing here throws for file-system reasons; results are typed, with a message for people.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { applyEditsToBytes, type ByteTextEdit, type EditDecoding } from './byteEdits';
import {
  DEFAULT_MAX_BYTES,
  decodeText,
  openRegular,
  PATH_MAX,
  type ReadFailureReason,
  type TextEncodingName,
} from './safeRead';
import { errorText } from '../common/errors';

export type WriteFailureReason =
  | ReadFailureReason
  | 'read-only'
  | 'hard-links'
  | 'owner'
  | 'changed'
  | 'unwritable'
  | 'encoding'
  | 'range'
  | 'overlap';

export interface WriteFailure {
  ok: false;
  reason: WriteFailureReason;
  message: string;
}
export interface WriteDone {
  ok: true;
  /** The path that was asked for (a link stays a link). */
  path: string;
  /** The regular file whose content was replaced (realpath of `path`). */
  target: string;
  /** 'rename': new inode via temp + rename; 'in-place': same inode rewritten (hard links kept); 'unchanged': nothing to write. */
  via: 'rename' | 'in-place' | 'unchanged';
  bytesWritten: number;
  /** Bytes another writer appended to the old file in the rename window, copied to the new one. */
  appendedBytesMerged: number;
}
export type WriteResult = WriteDone | WriteFailure;

export interface SafeWriteOptions {
  /** Write a file without write permission bits (0444) anyway; its mode is kept. */
  force?: boolean;
  /** More than one hard link: refuse (default) or rewrite the inode in place. */
  hardLinks?: 'refuse' | 'in-place';
  /** Refuse files larger than this (default 16 MiB). */
  maxBytes?: number;
  /** Test hooks. */
  hooks?: {
    /** Temp-file name in `dir` for attempt `n` (default: random). */
    tempName?: (dir: string, base: string, n: number) => string;
    /** Called after the temp file is complete and before the last check and the rename. */
    beforeFinalCheck?: () => void | Promise<void>;
    /** Called between the last check and the rename. */
    beforeRename?: () => void | Promise<void>;
  };
  /** Extra time to watch the old inode for late appends after the rename (ms, default 0). */
  lateAppendWindowMs?: number;
  /**
   * After the rename, wait at most this long (ms, default 2000) while another process still has the
   * old file open (Linux /proc), then copy what it appended. Without this, a writer that opened the
   * file just before the rename and writes after it would write into the unlinked old inode.
   */
  holderWaitMs?: number;
}

interface Identity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  nlink: bigint;
}
function identity(st: fs.BigIntStats): Identity {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, nlink: st.nlink };
}
function sameIdentity(a: Identity, b: Identity): boolean {
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.nlink === b.nlink
  );
}
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function failed(reason: WriteFailureReason, message: string): WriteFailure {
  return { ok: false, reason, message };
}
function octal(mode: number): string {
  return '0' + (mode & 0o7777).toString(8).padStart(3, '0');
}

async function readAllFrom(fh: fsp.FileHandle, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    chunks.push(buf.subarray(0, bytesRead));
    pos += bytesRead;
    if (pos > max) return null;
  }
  return Buffer.concat(chunks);
}

async function writeAll(fh: fsp.FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const d = await fsp.open(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* best effort: some file systems refuse fsync on directories */
  }
}

/** realpath of `p`, with errors as typed failures. */
async function resolveTarget(p: string): Promise<string | WriteFailure> {
  if (Buffer.byteLength(p) >= PATH_MAX)
    return failed('path-too-long', `${p.slice(0, 200)}…: path longer than PATH_MAX (${PATH_MAX})`);
  try {
    return await fsp.realpath(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      return failed('missing', `${p}: no such file (or a dangling symbolic link)`);
    if (code === 'ELOOP') return failed('unreadable', `${p}: too many levels of symbolic links`);
    if (code === 'ENAMETOOLONG') return failed('path-too-long', `${p}: path too long`);
    if (code === 'EACCES' || code === 'EPERM') return failed('unreadable', `${p}: permission denied`);
    return failed('unreadable', `${p}: ${errorText(e)}`);
  }
}

/** Whether this process may replace the file with a same-mode, same-owner copy; a failure when not. */
async function checkMayReplace(
  file: string,
  target: string,
  st: fs.BigIntStats,
  opts: SafeWriteOptions,
): Promise<WriteFailure | undefined> {
  const mode = Number(st.mode) & 0o7777;
  const uid = Number(st.uid);
  const euid = process.geteuid?.() ?? -1;
  if ((mode & 0o222) === 0 && !opts.force) {
    return failed(
      'read-only',
      `${file}: is read-only (mode ${octal(mode)}); not written (force to write it anyway, keeping the mode)`,
    );
  }
  if (euid !== 0) {
    try {
      await fsp.access(target, fs.constants.W_OK);
    } catch {
      if (!opts.force || euid !== uid)
        return failed('read-only', `${file}: you may not write it (mode ${octal(mode)}, owner ${uid}); not written`);
    }
    if (euid !== uid)
      return failed(
        'owner',
        `${file}: owned by uid ${uid}; a replacement written by uid ${euid} could not keep that owner; not written`,
      );
  }
  if (st.nlink > 1n && opts.hardLinks !== 'in-place') {
    return failed(
      'hard-links',
      `${file}: has ${st.nlink} hard links; replacing it would split them; not written (rewrite in place to keep them)`,
    );
  }
  return undefined;
}

/** A fresh temp file, created exclusively next to the target (never through a link planted there). */
async function createTempFile(
  file: string,
  dir: string,
  base: string,
  opts: SafeWriteOptions,
): Promise<{ tfh: fsp.FileHandle; tmp: string } | WriteFailure> {
  for (let n = 0; n < 16; n++) {
    const name =
      opts.hooks?.tempName?.(dir, base, n) ?? `.${base.slice(0, 100)}.kbd-${randomBytes(9).toString('base64url')}.tmp`;
    const candidate = path.join(dir, name);
    try {
      const tfh = await fsp.open(
        candidate,
        fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
        0o600,
      );
      return { tfh, tmp: candidate };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ELOOP') continue; // something (maybe a planted link) is there: another name
      return failed('unwritable', `${file}: cannot create a temp file in ${dir}: ${errorText(e)}; not written`);
    }
  }
  return failed('unwritable', `${file}: could not create a fresh temp file in ${dir} after 16 tries; not written`);
}

/** Writes `newBytes` to the temp file with the original's owner and mode, synced; closes it. */
async function fillTempFile(
  file: string,
  tfh: fsp.FileHandle,
  newBytes: Uint8Array,
  st: fs.BigIntStats,
): Promise<WriteFailure | undefined> {
  const mode = Number(st.mode) & 0o7777;
  const uid = Number(st.uid);
  const gid = Number(st.gid);
  try {
    await writeAll(tfh, newBytes, 0);
    const tst = await tfh.stat();
    if (tst.uid !== uid || tst.gid !== gid) {
      try {
        await tfh.chown(uid, gid);
      } catch (e) {
        return failed('owner', `${file}: cannot keep its owner ${uid}:${gid} (${errorText(e)}); not written`);
      }
    }
    await tfh.chmod(mode); // after chown, which may clear set-id bits
    await tfh.sync();
  } catch (e) {
    return failed('unwritable', `${file}: writing the temp file failed: ${errorText(e)}; not written`);
  } finally {
    await tfh.close().catch(() => undefined);
  }
  return undefined;
}

/** The last check before the rename: same inode, same size/times/links, same content. */
async function checkUnchanged(
  file: string,
  target: string,
  fh: fsp.FileHandle,
  id: Identity,
  expectedHash: string,
  maxBytes: number,
): Promise<WriteFailure | undefined> {
  let now: fs.BigIntStats;
  try {
    now = await fsp.lstat(target, { bigint: true });
  } catch (e) {
    return failed('changed', `${file}: disappeared while the fix was written (${errorText(e)}); nothing written`);
  }
  if (!now.isFile() || !sameIdentity(identity(now), id)) {
    return failed(
      'changed',
      `${file}: changed while the fix was written (another program wrote, replaced or linked it); nothing written, the other change is kept`,
    );
  }
  const again = await readAllFrom(fh, maxBytes);
  if (again === null || sha256(again) !== expectedHash) {
    return failed(
      'changed',
      `${file}: its content changed while the fix was written; nothing written, the other change is kept`,
    );
  }
  return undefined;
}

/**
 * Replaces the content of `file` (or of the file a link at `file` points to) with `newBytes`,
 * provided it still holds exactly `expected` (the bytes the change was computed from).
 */
export async function replaceFileContent(
  file: string,
  expected: Uint8Array,
  newBytes: Uint8Array,
  opts: SafeWriteOptions = {},
): Promise<WriteResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const target = await resolveTarget(file);
  if (typeof target !== 'string') return target;
  const opened = await openRegular(target, { followSymlinks: false, maxBytes });
  if (!opened.ok) return failed(opened.reason, opened.message);
  const fh = opened.fh;
  let tmp: string | null = null;
  try {
    const st = await fh.stat({ bigint: true });
    const id = identity(st);
    const current = await readAllFrom(fh, maxBytes);
    if (current === null) return failed('too-large', `${file}: grew past the ${maxBytes}-byte limit; not written`);
    const expectedHash = sha256(expected);
    if (current.length !== expected.length || sha256(current) !== expectedHash) {
      return failed(
        'changed',
        `${file}: changed since it was read (the edit was computed on other content); nothing written`,
      );
    }
    if (Buffer.compare(Buffer.from(expected), Buffer.from(newBytes)) === 0) {
      return { ok: true, path: file, target, via: 'unchanged', bytesWritten: 0, appendedBytesMerged: 0 };
    }
    const refused = await checkMayReplace(file, target, st, opts);
    if (refused) return refused;

    if (st.nlink > 1n) return await writeInPlace(file, target, id, expectedHash, newBytes, maxBytes, opts);

    const dir = path.dirname(target);
    const created = await createTempFile(file, dir, path.basename(target), opts);
    if (!('tfh' in created)) return created;
    tmp = created.tmp;
    const notFilled = await fillTempFile(file, created.tfh, newBytes, st);
    if (notFilled) return notFilled;

    await opts.hooks?.beforeFinalCheck?.();
    const changed = await checkUnchanged(file, target, fh, id, expectedHash, maxBytes);
    if (changed) return changed;
    await opts.hooks?.beforeRename?.();
    try {
      await fsp.rename(tmp, target);
      tmp = null;
    } catch (e) {
      return failed('unwritable', `${file}: rename failed: ${errorText(e)}; the file is unchanged`);
    }
    await fsyncDir(dir);

    // ---- late appends to the old inode (a writer that opened it before the rename) ----
    const merged = await mergeLateAppends(
      file,
      target,
      fh,
      id,
      expected,
      maxBytes,
      opts.lateAppendWindowMs ?? 0,
      opts.holderWaitMs ?? 2000,
    );
    if (typeof merged !== 'number') return merged;
    return { ok: true, path: file, target, via: 'rename', bytesWritten: newBytes.length, appendedBytesMerged: merged };
  } catch (e) {
    return failed('unwritable', `${file}: ${errorText(e)}; not written`);
  } finally {
    if (tmp) await fsp.unlink(tmp).catch(() => undefined);
    await fh.close().catch(() => undefined);
  }
}

async function mergeLateAppends(
  file: string,
  target: string,
  oldFh: fsp.FileHandle,
  id: Identity,
  expected: Uint8Array,
  maxBytes: number,
  windowMs: number,
  holderWaitMs: number,
): Promise<number | WriteFailure> {
  let copied = 0n;
  let seenMtime = id.mtimeNs;
  const check = async (): Promise<number | WriteFailure> => {
    const st = await oldFh.stat({ bigint: true });
    if (st.size === id.size + copied && st.mtimeNs === seenMtime) return 0;
    seenMtime = st.mtimeNs;
    const old = await readAllFrom(oldFh, maxBytes + 1);
    const head = old?.subarray(0, expected.length);
    if (!old || !head || Buffer.compare(head, Buffer.from(expected)) !== 0) {
      const saved = await saveCopy(target, old ?? Buffer.alloc(0));
      return failed(
        'changed',
        `${file}: another program changed it while the fix was being renamed into place; the fix is written, and the other program's version was saved as ${saved}`,
      );
    }
    const tail = old.subarray(Number(id.size + copied));
    if (tail.length === 0) return 0;
    const afh = await fsp.open(target, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_NOFOLLOW);
    try {
      await afh.write(tail, 0, tail.length);
      await afh.sync();
    } finally {
      await afh.close();
    }
    copied += BigInt(tail.length);
    return tail.length;
  };
  let total = 0;
  const first = await check();
  if (typeof first !== 'number') return first;
  total += first;
  // Wait (bounded) while another process still holds the old inode open: its writes would be lost.
  const deadline = Date.now() + holderWaitMs;
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  if (windowMs > 0) await sleep(windowMs);
  while (Date.now() < deadline && othersHoldOpen(id, oldFh.fd, target)) await sleep(5);
  const last = await check();
  if (typeof last !== 'number') return last;
  return total + last;
}

/**
 * Linux: true when a process other than us (our `selfFd` excluded) has the old inode open for writing. Looks only
 * at descriptors whose link reads "TARGET (deleted)", so it stats a handful of entries. Best effort:
 * processes of other users are invisible unless we are root; no /proc means false.
 */
function othersHoldOpen(id: { dev: bigint; ino: bigint }, selfFd: number, target: string): boolean {
  const want = `${target} (deleted)`;
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc');
  } catch {
    return false;
  }
  for (const pid of pids) {
    if (!/^[0-9]+$/.test(pid)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      if (Number(pid) === process.pid && Number(fd) === selfFd) continue;
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) !== want) continue;
        const st = fs.statSync(`/proc/${pid}/fd/${fd}`, { bigint: true });
        if (st.ino !== id.ino || st.dev !== id.dev) continue;
        // Only writers matter (a `tail -f` reading the old file must not make us wait).
        const flags = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
        if (flags === undefined || (parseInt(flags, 8) & 3) !== 0) return true;
      } catch {
        /* gone meanwhile */
      }
    }
  }
  return false;
}

async function saveCopy(target: string, bytes: Uint8Array): Promise<string> {
  const name = path.join(
    path.dirname(target),
    `.${path.basename(target).slice(0, 100)}.kbd-saved-${randomBytes(6).toString('base64url')}`,
  );
  try {
    const h = await fsp.open(
      name,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
      0o600,
    );
    try {
      await writeAll(h, bytes, 0);
    } finally {
      await h.close();
    }
    return name;
  } catch (e) {
    return `(nowhere: ${errorText(e)})`;
  }
}

async function writeInPlace(
  file: string,
  target: string,
  id: Identity,
  expectedHash: string,
  newBytes: Uint8Array,
  maxBytes: number,
  opts: SafeWriteOptions,
): Promise<WriteResult> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(
      target,
      fs.constants.O_RDWR | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY,
    );
  } catch (e) {
    return failed('unwritable', `${file}: cannot open for writing: ${errorText(e)}; not written`);
  }
  try {
    await opts.hooks?.beforeFinalCheck?.();
    const st = await fh.stat({ bigint: true });
    if (!st.isFile() || !sameIdentity(identity(st), id))
      return failed('changed', `${file}: changed while the fix was written; nothing written, the other change is kept`);
    const again = await readAllFrom(fh, maxBytes);
    if (again === null || sha256(again) !== expectedHash)
      return failed(
        'changed',
        `${file}: its content changed while the fix was written; nothing written, the other change is kept`,
      );
    await opts.hooks?.beforeRename?.();
    await writeAll(fh, newBytes, 0);
    await fh.truncate(newBytes.length);
    await fh.sync();
    return { ok: true, path: file, target, via: 'in-place', bytesWritten: newBytes.length, appendedBytesMerged: 0 };
  } catch (e) {
    return failed('unwritable', `${file}: writing in place failed: ${errorText(e)}; the file may be partly written`);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

export interface ComputeInput {
  text: string;
  encoding: TextEncodingName;
  bytes: Buffer;
}

/**
 * Reads `file` safely (a regular file, through its link if it is one), lets `compute` produce edits
 * on the decoded text (decodeText: UTF-8 when valid, else Latin-1), applies them to the original
 * bytes and replaces the file with replaceFileContent. `compute` returning undefined or [] writes
 * nothing (`via: 'unchanged'`).
 */
export async function safeEditFile(
  file: string,
  compute: (input: ComputeInput) => readonly ByteTextEdit[] | undefined | Promise<readonly ByteTextEdit[] | undefined>,
  opts: SafeWriteOptions & { decoding?: EditDecoding } = {},
): Promise<WriteResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const target = await resolveTarget(file);
  if (typeof target !== 'string') return target;
  const o = await openRegular(target, { followSymlinks: false, maxBytes });
  if (!o.ok) return failed(o.reason, o.message);
  let bytes: Buffer | null;
  try {
    bytes = await readAllFrom(o.fh, maxBytes);
  } catch (e) {
    return failed('unreadable', `${file}: ${errorText(e)}`);
  } finally {
    await o.fh.close().catch(() => undefined);
  }
  if (bytes === null) return failed('too-large', `${file}: larger than the ${maxBytes}-byte limit; not read`);
  const d = decodeText(bytes);
  const edits = await compute({ text: d.text, encoding: d.encoding, bytes });
  if (!edits || edits.length === 0)
    return { ok: true, path: file, target, via: 'unchanged', bytesWritten: 0, appendedBytesMerged: 0 };
  const applied = applyEditsToBytes(bytes, edits, opts.decoding ?? 'auto');
  if (!applied.ok) return failed(applied.reason, `${file}: ${applied.message}; not written`);
  return replaceFileContent(file, bytes, applied.bytes, opts);
}
