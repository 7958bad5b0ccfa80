// Hostile build directories through the real server and the build model: symlink loops, 100,000
// files (hover answered while a scan runs; the scan is cancellable), an 8 GiB sparse object read by
// ranges, an object rewritten while it is read, files deleted between listing and reading.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  renameSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildReader, findBuildDirectories, kernelRootOf } from '../../server/src/kbuild/buildModel';
import { offendingSections } from '../../server/src/rules/nvhe-profile-metadata/sections';
import { findMakeFiles } from '../../server/src/kbuild/findMakefiles';
import { root } from '../helpers/kernelTree';
import type { LspClient } from '../helpers/lspClient';
import { assertAlive, diagnosticsOf, NVHE, sampleTree, startServer, uri } from './lspHelpers';

let t: ReturnType<typeof sampleTree>;
let lsp: LspClient;

before(async () => {
  t = sampleTree('kbd-fs-');
  lsp = await startServer(t.tree);
});
after(async () => {
  await lsp.stop();
  rmSync(t.tree, { recursive: true, force: true });
});

interface ObjectInfo {
  relativePath: string;
  status: string;
  problem?: string;
}
interface SectionInfo {
  name: string;
  offending?: string;
}

test(
  'symlink loops: build-dir discovery, the Makefile scan and the explorer walk all end',
  { timeout: 30_000 },
  async () => {
    const loops = join(t.tree, 'loopy');
    mkdirSync(join(loops, 'a', 'b'), { recursive: true });
    symlinkSync('..', join(loops, 'a', 'b', 'up'));
    symlinkSync(join(loops, 'a'), join(loops, 'a', 'b', 'again'));
    symlinkSync('self', join(loops, 'self'));
    symlinkSync('source', join(loops, 'source'));
    symlinkSync(loops, join(loops, 'a', 'root'));
    writeFileSync(join(loops, 'a', 'b', 'x.o'), 'not elf');
    const t0 = Date.now();
    const dirs = await findBuildDirectories(t.tree, { searchRoots: [t.tree, loops] });
    assert.ok(dirs.includes(join(t.tree, 'build')));
    assert.ok(!dirs.includes(loops));
    const found = await findMakeFiles([t.tree], (text) => text.includes('gen-hyprel'));
    assert.deepEqual(found.files, [t.makefile]);
    assert.equal(await kernelRootOf(join(loops, 'a', 'b', 'up', 'a', 'b', 'Makefile')), t.tree);
    // The explorer walks a folder with no nvhe directory by name: it must not follow the links.
    const r = await lsp.request<{ objects: ObjectInfo[] }>('kbuild/listObjects', { buildUri: uri(loops) }, 20_000);
    assert.ok(Array.isArray(r.objects));
    assert.ok(Date.now() - t0 < 20_000);
    await assertAlive(lsp, uri(t.makefile));
  },
);

test(
  '100,000 files: hover is answered while the explorer scans, and the scan can be cancelled',
  { timeout: 60_000 },
  async (tc) => {
    // On tmpfs when there is one: creating 100,000 inodes on a busy disk can take a minute by itself.
    const big = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'kbd-bigbuild-'));
    const c0 = Date.now();
    for (let d = 0; d < 100; d++) {
      const dir = join(big, `d${d}`, 'sub');
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 1000; f++) closeSync(openSync(join(dir, `f${f}.o`), 'w'));
    }
    const docUri = lsp.open(t.makefile, t.text, 'kbuild', 1);
    await diagnosticsOf(lsp, docUri, (p) => p.version === 1);
    const times: number[] = [];
    tc.after(() => rmSync(big, { recursive: true, force: true }));
    const scan = lsp.request<{ objects: ObjectInfo[] }>('kbuild/listObjects', { buildUri: uri(big) }, 50_000);
    for (let i = 0; i < 10; i++) {
      const h0 = Date.now();
      await lsp.request(
        'textDocument/hover',
        { textDocument: { uri: docUri }, position: { line: 3, character: 3 } },
        10_000,
      );
      times.push(Date.now() - h0);
    }
    const s0 = Date.now();
    const scanned = await scan;
    tc.diagnostic(`created 100,000 files in ${s0 - c0} ms; scan finished ${Date.now() - s0} ms after the hovers`);
    tc.diagnostic(`hover during the 100,000-file scan: max ${Math.max(...times)} ms (${times.join(', ')})`);
    assert.ok(Array.isArray(scanned.objects));
    assert.ok(Math.max(...times) < 2_000, `hover latencies during the scan: ${times.join(', ')} ms`);
    // Cancellation: a fresh walk (after a build change) cancelled at once answers RequestCancelled.
    lsp.notify('workspace/didChangeConfiguration', { settings: { kbuildDiagnostics: {} } });
    const id = (lsp as unknown as { nextId: number }).nextId;
    const p = lsp.request('kbuild/listObjects', { buildUri: uri(big) }, 50_000);
    lsp.notify('$/cancelRequest', { id });
    await assert.rejects(p, (e: Error & { code?: number }) => e.code === -32800 || e.code === -32801);
    await assertAlive(lsp, docUri);
    lsp.notify('textDocument/didClose', { textDocument: { uri: docUri } });
    rmSync(big, { recursive: true, force: true });
  },
);

test('an 8 GiB sparse kvm_nvhe.tmp.o is read by ranges (section table at the end)', { timeout: 30_000 }, async (tc) => {
  const b = Buffer.from(readFileSync(join(root, 'test', 'fixtures', 'elf', 'aarch64-hyp-profile.o')));
  const shoff = Number(b.readBigUInt64LE(40));
  const table = Buffer.from(b.subarray(shoff, shoff + 64 * b.readUInt16LE(60)));
  const at = 8 * 1024 ** 3 - table.length;
  b.writeBigUInt64LE(BigInt(at), 40);
  const dir = join(t.tree, 'huge');
  mkdirSync(dir);
  const p = join(dir, 'kvm_nvhe.tmp.o');
  const fd = openSync(p, 'w');
  writeSync(fd, b, 0, b.length, 0);
  writeSync(fd, table, 0, table.length, at);
  closeSync(fd);
  assert.equal(statSync(p).size, 8 * 1024 ** 3);
  const reader = new BuildReader();
  const rep = await reader.readObject(p);
  assert.equal(rep.error, undefined);
  tc.diagnostic(`8 GiB object: ${rep.bytesRead} bytes read`);
  assert.ok(rep.bytesRead < 1024 * 1024, `read ${rep.bytesRead} bytes of 8 GiB`);
  assert.ok(offendingSections(rep).some((o) => o.section.name === '.rel.llvm.call-graph-profile'));
  const s = await lsp.request<{ sections: SectionInfo[]; error?: string }>(
    'kbuild/listSections',
    { objectUri: uri(p) },
    20_000,
  );
  assert.equal(s.error, undefined);
  assert.ok(s.sections.some((x) => x.name === '.rel.llvm.call-graph-profile' && x.offending));
  rmSync(dir, { recursive: true, force: true });
});

test(
  'kvm_nvhe.tmp.o rewritten in a loop while the server lists sections and publishes diagnostics',
  { timeout: 40_000 },
  async (tc) => {
    const target = join(t.buildNvhe, 'kvm_nvhe.tmp.o');
    const good = readFileSync(target);
    const clean = readFileSync(join(root, 'test', 'fixtures', 'elf', 'aarch64-hyp.o'));
    let stop = false;
    let writes = 0;
    // The build's writer: truncate-and-write in place (half-written objects) and temp+rename.
    const writer = (async () => {
      while (!stop) {
        const v = writes++ % 4;
        if (v === 0) writeFileSync(target, good.subarray(0, Math.floor(good.length / 3)));
        else if (v === 1) writeFileSync(target, good);
        else if (v === 2) {
          writeFileSync(`${target}.tmp`, clean);
          renameSync(`${target}.tmp`, target);
        } else {
          try {
            unlinkSync(target);
          } catch {
            // already gone
          }
          writeFileSync(target, good);
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const docUri = lsp.open(t.makefile, t.text, 'kbuild', 1);
    let answered = 0;
    let lspErrors = 0;
    for (let i = 0; i < 150; i++) {
      const reqs = [
        lsp.request('kbuild/listSections', { objectUri: uri(target) }, 10_000),
        lsp.request('kbuild/sectionTable', { objectUri: uri(target), relocations: true }, 10_000),
        lsp.request('kbuild/listObjects', { buildUri: uri(join(t.tree, 'build')) }, 10_000),
      ];
      for (const r of await Promise.allSettled(reqs)) {
        if (r.status === 'fulfilled') answered++;
        else if (typeof (r.reason as { code?: unknown }).code === 'number') lspErrors++;
        else throw r.reason;
      }
      if (i % 10 === 0) {
        lsp.change(docUri, i + 2, `${t.text}\n# ${i}\n`);
        lsp.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: uri(target), type: 2 }] });
      }
    }
    stop = true;
    await writer;
    writeFileSync(target, good);
    const last = await diagnosticsOf(lsp, docUri, (p) => p.version === 142, 20_000);
    assert.ok(last.diagnostics.length > 0);
    await assertAlive(lsp, docUri);
    assert.ok(writes > 100, `writer ran ${writes} times`);
    assert.ok(answered > 0);
    tc.diagnostic(`rewrites ${writes}, requests answered ${answered}, LSP errors ${lspErrors}`);
    lsp.notify('textDocument/didClose', { textDocument: { uri: docUri } });
  },
);

test(
  'hyp objects deleted between listing and reading: errors per object, never a crash',
  { timeout: 20_000 },
  async () => {
    const listing = await lsp.request<{ objects: ObjectInfo[] }>('kbuild/listObjects', {
      buildUri: uri(join(t.tree, 'build')),
    });
    const moved: string[] = [];
    for (const o of listing.objects) {
      const f = join(t.tree, 'build', o.relativePath);
      try {
        renameSync(f, `${f}.gone`);
        moved.push(f);
      } catch {
        // not there
      }
    }
    for (const f of moved) {
      await assert.rejects(lsp.request('kbuild/listSections', { objectUri: uri(f) }), /no such file/);
    }
    const again = await lsp.request<{ objects: ObjectInfo[] }>('kbuild/listObjects', {
      buildUri: uri(join(t.tree, 'build')),
    });
    assert.ok(Array.isArray(again.objects));
    // Diagnostics still come (from the Makefile and the .cmd files alone).
    lsp.notify('workspace/didChangeWatchedFiles', { changes: moved.map((f) => ({ uri: uri(f), type: 3 })) });
    const docUri = lsp.open(join(t.tree, NVHE, 'Makefile'), t.text, 'kbuild', 7);
    await diagnosticsOf(lsp, docUri, (p) => p.version === 7, 20_000);
    for (const f of moved) renameSync(`${f}.gone`, f);
    await assertAlive(lsp, docUri);
    lsp.notify('textDocument/didClose', { textDocument: { uri: docUri } });
  },
);
