// safeRead: only regular files are read, the type is decided on the opened descriptor, every read is
// bounded, and a FIFO never blocks the event loop or the thread pool. Each failure has a typed reason.
// Run as root, the "unreadable" cases run in a child process as nobody (root ignores permissions).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeText,
  openRegular,
  openRegularSync,
  readdirSafe,
  readRegularFile,
  readRegularFileSync,
  readRegularText,
  readRegularTextSync,
  statSafe,
} from '../../server/src/fs/safeRead';

const CHILD = process.env.KBD_SAFE_READ_CHILD;

if (CHILD) {
  // Child mode (run as nobody): print the reasons for the paths given.
  void (async () => {
    const paths = JSON.parse(CHILD) as string[];
    const out: string[] = [];
    for (const p of paths) {
      const r = p.endsWith('/') ? await readdirSafe(p) : await readRegularFile(p);
      out.push(r.ok ? 'ok' : r.reason);
      if (!p.endsWith('/')) {
        const s = readRegularFileSync(p);
        out.push(s.ok ? 'ok' : s.reason);
      }
    }
    process.stdout.write(JSON.stringify(out));
  })();
} else {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kbd-saferead-'));
    chmodSync(dir, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a regular file is read whole; text is UTF-8 when valid, Latin-1 (lossless) otherwise', async () => {
    const f = join(dir, 'Makefile');
    writeFileSync(f, 'X := ü\n');
    const r = await readRegularText(f);
    assert.ok(r.ok);
    assert.equal(r.text, 'X := ü\n');
    assert.equal(r.encoding, 'utf8');
    const l = join(dir, 'latin1');
    const bytes = Buffer.from([0x23, 0x20, 0xa9, 0x20, 0x4a, 0xfc, 0x72, 0x67, 0x65, 0x6e, 0x0a]);
    writeFileSync(l, bytes);
    const t = readRegularTextSync(l);
    assert.ok(t.ok);
    assert.equal(t.encoding, 'latin1');
    assert.equal(t.text, '# © Jürgen\n');
    assert.deepEqual(Buffer.from(t.text, 'latin1'), bytes);
    assert.equal(decodeText(Buffer.from('\ufeffa')).text, '\ufeffa', 'a BOM is kept');
  });

  test(
    'FIFO, symlink to a FIFO, /dev/zero, a link to it, a directory and a socket: not-regular, at once',
    { timeout: 30_000 },
    async () => {
      const fifo = join(dir, 'kvm_nvhe.tmp.o');
      execFileSync('mkfifo', [fifo]);
      const lfifo = join(dir, '.kvm_nvhe.tmp.o.cmd');
      symlinkSync(fifo, lfifo);
      const zero = join(dir, 'hyp.lds.S');
      symlinkSync('/dev/zero', zero);
      const sock = join(dir, 'sock');
      const srv = net.createServer();
      await new Promise<void>((res) => srv.listen(sock, res));
      try {
        for (const p of [fifo, lfifo, zero, '/dev/zero', '/dev/null', dir, sock]) {
          const t0 = Date.now();
          const a = await readRegularFile(p);
          const s = readRegularFileSync(p);
          const o = await openRegular(p);
          const os = openRegularSync(p);
          assert.ok(!a.ok && a.reason === 'not-regular', `${p}: ${JSON.stringify(a)}`);
          assert.ok(!s.ok && s.reason === 'not-regular', p);
          assert.ok(!o.ok && o.reason === 'not-regular', p);
          assert.ok(!os.ok && os.reason === 'not-regular', p);
          assert.match(a.message, /not a regular file|is a directory/);
          assert.ok(Date.now() - t0 < 5_000, `${p} took ${Date.now() - t0} ms`);
        }
        // 8 FIFO reads at once (more than the 4 libuv threads) and then a healthy read: nothing waits.
        const healthy = join(dir, 'ok');
        writeFileSync(healthy, 'fine');
        const t0 = Date.now();
        const all = await Promise.all([
          ...Array.from({ length: 8 }, () => readRegularFile(fifo)),
          readRegularFile(healthy),
        ]);
        assert.ok(all.slice(0, 8).every((r) => !r.ok && r.reason === 'not-regular'));
        assert.ok(all[8].ok && all[8].bytes.toString() === 'fine');
        assert.ok(Date.now() - t0 < 5_000);
      } finally {
        srv.close();
      }
    },
  );

  test('symlinks are followed by default and refused with followSymlinks: false', async () => {
    const f = join(dir, 'real');
    writeFileSync(f, 'abc');
    const l = join(dir, 'link');
    symlinkSync(f, l);
    const a = await readRegularFile(l);
    assert.ok(a.ok && a.bytes.toString() === 'abc');
    const b = await readRegularFile(l, { followSymlinks: false });
    assert.ok(!b.ok && b.reason === 'symlink');
    const c = readRegularFileSync(l, { followSymlinks: false });
    assert.ok(!c.ok && c.reason === 'symlink');
    const loop = join(dir, 'loop');
    symlinkSync(loop, loop);
    const d = await readRegularFile(loop);
    assert.ok(!d.ok && d.reason === 'unreadable' && /symbolic links/.test(d.message), JSON.stringify(d));
    const dangling = join(dir, 'dangling');
    symlinkSync(join(dir, 'nowhere'), dangling);
    const e = await readRegularFile(dangling);
    assert.ok(!e.ok && e.reason === 'missing');
  });

  test('size bounds: at the limit is read, one byte over is too-large; /proc files (size 0) are read', async () => {
    const f = join(dir, 'big');
    writeFileSync(f, Buffer.alloc(1000, 0x61));
    const a = await readRegularFile(f, { maxBytes: 1000 });
    assert.ok(a.ok && a.bytes.length === 1000);
    const b = await readRegularFile(f, { maxBytes: 999 });
    assert.ok(!b.ok && b.reason === 'too-large', JSON.stringify(b));
    const c = readRegularFileSync(f, { maxBytes: 999 });
    assert.ok(!c.ok && c.reason === 'too-large');
    const p = await readRegularFile('/proc/self/status');
    assert.ok(p.ok && p.stat.size === 0 && p.bytes.length > 0);
    // A /proc file larger than the limit is cut off as too-large, not read without end.
    const q = readRegularFileSync('/proc/self/status', { maxBytes: 16 });
    assert.ok(!q.ok && q.reason === 'too-large');
  });

  test('missing, ENOTDIR, path longer than PATH_MAX, component longer than NAME_MAX', async () => {
    const f = join(dir, 'file');
    writeFileSync(f, 'x');
    for (const [p, reason] of [
      [join(dir, 'nope'), 'missing'],
      [join(f, 'below'), 'missing'],
      ['', 'missing'],
      [dir + '/' + 'a/'.repeat(2100) + 'Makefile', 'path-too-long'],
      [join(dir, 'n'.repeat(300)), 'path-too-long'],
    ] as const) {
      const a = await readRegularFile(p);
      const s = readRegularFileSync(p);
      assert.ok(!a.ok && a.reason === reason, `${p.slice(0, 80)}: ${JSON.stringify(a).slice(0, 300)}`);
      assert.ok(!s.ok && s.reason === reason);
    }
    const st = await statSafe(dir + '/' + 'a/'.repeat(2100));
    assert.ok(!st.ok && st.reason === 'path-too-long');
  });

  test('readdirSafe: entries bounded, a file is not-regular (not a directory), missing is missing', async () => {
    const d = join(dir, 'many');
    mkdirSync(d);
    for (let i = 0; i < 50; i++) writeFileSync(join(d, `f${i}.o`), '');
    const all = await readdirSafe(d);
    assert.ok(all.ok && all.entries.length === 50 && !all.truncated);
    const some = await readdirSafe(d, { maxEntries: 10 });
    assert.ok(some.ok && some.entries.length === 10 && some.truncated);
    const nd = await readdirSafe(join(d, 'f1.o'));
    assert.ok(!nd.ok && nd.reason === 'not-regular');
    const m = await readdirSafe(join(d, 'none'));
    assert.ok(!m.ok && m.reason === 'missing');
  });

  test('unreadable file and directory (as nobody): reason unreadable, not empty/clean', { timeout: 30_000 }, (t) => {
    const f = join(dir, 'secret');
    writeFileSync(f, 'x');
    chmodSync(f, 0o000);
    const d = join(dir, 'closed');
    mkdirSync(d);
    chmodSync(d, 0o000);
    const args = [f, d + '/'];
    if (process.getuid?.() !== 0) {
      // As a normal user we can run the checks ourselves.
      const a = readRegularFileSync(f);
      assert.ok(!a.ok && a.reason === 'unreadable');
      return;
    }
    // nobody may not reach this bundle (a clone inside a 0700 folder, such as root's HOME): run a
    // copy of it from the world-readable temp folder the test made (the bundle needs nothing else).
    const bundle = join(dir, 'safeRead.child.js');
    copyFileSync(__filename, bundle);
    chmodSync(bundle, 0o644);
    const asNobody = (argv: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, argv, {
        env: { ...process.env, ...env },
        cwd: dir,
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
        timeout: 20_000,
      });
    // Whether nobody can run node and reach the temp folder at all is a property of the machine,
    // asked first and on its own: only then is a skip honest (the real run below never skips).
    const reach = asNobody([
      '-e',
      'require("node:fs").accessSync(process.argv[1], require("node:fs").constants.R_OK)',
      bundle,
    ]);
    if (reach.error || reach.status !== 0) {
      t.skip(
        `nobody cannot run ${process.execPath} or read ${bundle} on this machine: ${reach.error?.message ?? reach.stderr.trim().split('\n').pop()}`,
      );
      return;
    }
    const r = asNobody([bundle], { KBD_SAFE_READ_CHILD: JSON.stringify(args) });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ['unreadable', 'unreadable', 'unreadable']);
    assert.equal(readFileSync(f, 'utf8'), 'x');
  });
}
