// The section explorer's custom requests, spoken over LSP stdio to the built server, on a temp copy
// of the sample kernel tree (its O= directory build/ holds real clang-19 objects with the
// call-graph-profile sections).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, copyFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspClient } from '../helpers/lspClient';
import { root } from '../helpers/kernelTree';
import { findLlvmReadelf } from '../helpers/hostTools';
import type { BuildDirectoryInfo, ObjectInfo, SectionInfo } from '../../server/src/lspExt';

const NVHE = 'build/arch/arm64/kvm/hyp/nvhe';
let tmp: string;
let tree: string;
let client: LspClient;
const uri = (p: string) => pathToFileURL(p).toString();

before(async () => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'kbd-explorer-')));
  tree = join(tmp, 'sample-kernel');
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
  client = new LspClient();
  await client.initialize(tree);
});

after(async () => {
  await client.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('listBuildDirectories finds the O= directory of the sample tree, offending', async () => {
  const r = await client.request<{ builds: BuildDirectoryInfo[] }>('kbuild/listBuildDirectories', {});
  const b = r.builds.find((x) => x.uri === uri(join(tree, 'build')));
  assert.ok(b, `no build/ in ${JSON.stringify(r.builds)}`);
  assert.equal(b.sourceUri, uri(tree));
  assert.equal(b.offending, true);
  assert.equal(b.objectCount, 5);
});

test('listObjects: hyp objects and kvm_nvhe.tmp.o (stage tmp, offending, gen-hyprel message)', async () => {
  const r = await client.request<{ objects: ObjectInfo[] }>('kbuild/listObjects', {
    buildUri: uri(join(tree, 'build')),
  });
  const names = r.objects.map((o) => `${o.relativePath}:${o.stage}`);
  for (const h of ['sysreg-sr', 'switch', 'tlb', 'hyp-main'])
    assert.ok(names.includes(`arch/arm64/kvm/hyp/nvhe/${h}.nvhe.o:hyp-object`), names.join(' '));
  const tmpObj = r.objects.find((o) => o.relativePath === 'arch/arm64/kvm/hyp/nvhe/kvm_nvhe.tmp.o');
  assert.ok(tmpObj);
  assert.equal(tmpObj.stage, 'tmp');
  assert.equal(tmpObj.status, 'offending');
  assert.equal(tmpObj.offendingCount, 2);
  assert.equal(
    tmpObj.objectProblem,
    'error: arch/arm64/kvm/hyp/nvhe/kvm_nvhe.tmp.o: Unexpected SHT_REL section ".rel.llvm.call-graph-profile"',
  );
  // Pipeline order: hyp objects first, then tmp; stages not built (rel, final) are not listed.
  assert.ok(r.objects.findIndex((o) => o.stage === 'tmp') > r.objects.findIndex((o) => o.stage === 'hyp-object'));
  assert.ok(!r.objects.some((o) => o.stage === 'rel' || o.stage === 'final'));
});

test('listSections marks .rel.llvm.call-graph-profile (REL) and .llvm.call-graph-profile, nothing else', async () => {
  const r = await client.request<{ sections: SectionInfo[]; error?: string }>('kbuild/listSections', {
    objectUri: uri(join(tree, NVHE, 'kvm_nvhe.tmp.o')),
  });
  assert.equal(r.error, undefined);
  const rel = r.sections.find((s) => s.name === '.rel.llvm.call-graph-profile');
  assert.ok(rel, r.sections.map((s) => s.name).join(' '));
  assert.equal(rel.typeName, 'REL');
  assert.match(rel.offending ?? '', /SHT_REL/);
  assert.match(rel.offending ?? '', /gen-hyprel/);
  const cg = r.sections.find((s) => s.name === '.llvm.call-graph-profile');
  assert.equal(cg?.typeName, 'LLVM_CALL_GRAPH_PROFILE');
  assert.ok(cg?.offending);
  assert.equal(cg?.flagLetters.trim(), 'E');
  assert.deepEqual(
    r.sections
      .filter((s) => s.offending)
      .map((s) => s.name)
      .sort(),
    ['.llvm.call-graph-profile', '.rel.llvm.call-graph-profile'],
  );
  assert.ok(r.sections.some((s) => s.name === '.hyp.text' && !s.offending));
  assert.ok(r.sections.every((s) => /^0x[0-9a-f]+$/.test(s.size) && /^\d+$/.test(s.flags)));
});

test('sectionTable is the llvm-readelf-19 -S layout, then the relocations', async () => {
  const file = join(tree, NVHE, 'kvm_nvhe.tmp.o');
  const plain = await client.request<{ text: string }>('kbuild/sectionTable', {
    objectUri: uri(file),
    relocations: false,
  });
  const readelf = findLlvmReadelf();
  if (readelf) assert.equal(plain.text, execFileSync(readelf, ['-S', file], { encoding: 'utf8' }));
  else assert.match(plain.text, /^There are \d+ section headers/);
  const withRel = await client.request<{ text: string }>('kbuild/sectionTable', {
    objectUri: uri(file),
    relocations: true,
  });
  assert.ok(withRel.text.startsWith(plain.text));
  assert.match(
    withRel.text,
    /Relocation section '\.rel\.llvm\.call-graph-profile' at offset 0x[0-9a-f]+ contains \d+ entries:/,
  );
  if (readelf) assert.equal(withRel.text, plain.text + execFileSync(readelf, ['-r', file], { encoding: 'utf8' }));
});

test('compareObjects: what the ld -r of kvm_nvhe.tmp.o changed against a hyp object', async () => {
  const r = await client.request<{ onlyLeft: string[]; onlyRight: string[]; changed: string[]; text: string }>(
    'kbuild/compareObjects',
    {
      leftUri: uri(join(tree, NVHE, 'hyp-main.nvhe.o')),
      rightUri: uri(join(tree, NVHE, 'kvm_nvhe.tmp.o')),
    },
  );
  assert.ok(r.onlyLeft.includes('.text'), r.onlyLeft.join(' '));
  assert.ok(r.onlyRight.includes('.hyp.text'), r.onlyRight.join(' '));
  // Both carry the profile sections: ld -r let them through.
  assert.ok(!r.onlyLeft.includes('.llvm.call-graph-profile') && !r.onlyRight.includes('.llvm.call-graph-profile'));
  assert.match(r.text, /Only in hyp-main\.nvhe\.o/);
  assert.match(r.text, /Only in kvm_nvhe\.tmp\.o/);
});

test('a missing object is an LSP error, and the server keeps answering', async () => {
  await assert.rejects(
    client.request('kbuild/listSections', { objectUri: uri(join(tree, NVHE, 'nope.o')) }),
    /no such file/,
  );
  await assert.rejects(
    client.request('kbuild/sectionTable', { objectUri: uri(join(tree, NVHE, 'nope.o')), relocations: true }),
    /no such file/,
  );
  await assert.rejects(
    client.request('kbuild/listObjects', { buildUri: uri(join(tree, 'no-such-build')) }),
    /no such directory/,
  );
  const r = await client.request<{ builds: BuildDirectoryInfo[] }>('kbuild/listBuildDirectories', {});
  assert.ok(r.builds.length > 0);
});

test('addObject lists a user object; a non-object is refused', async () => {
  const extra = join(tree, 'build', 'extra-profile.o');
  copyFileSync(join(root, 'test', 'fixtures', 'elf', 'aarch64-profile.o'), extra);
  const ok = await client.request<{ ok: boolean; buildUri?: string }>('kbuild/addObject', { objectUri: uri(extra) });
  assert.deepEqual(ok, { ok: true, buildUri: uri(join(tree, 'build')) });
  const r = await client.request<{ objects: ObjectInfo[] }>('kbuild/listObjects', {
    buildUri: uri(join(tree, 'build')),
  });
  const o = r.objects.find((x) => x.uri === uri(extra));
  assert.equal(o?.added, true);
  assert.equal(o?.status, 'offending');
  const bad = await client.request<{ ok: boolean; error?: string }>('kbuild/addObject', {
    objectUri: uri(join(tree, 'Makefile')),
  });
  assert.equal(bad.ok, false);
});

test('after the rebuild (clean objects) and a watched-files change, the sections are gone', async () => {
  const tmpObj = join(tree, NVHE, 'kvm_nvhe.tmp.o');
  copyFileSync(join(root, 'test', 'fixtures', 'elf', 'aarch64-hyp.o'), tmpObj);
  client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: uri(tmpObj), type: 2 }] });
  await client.waitFor('kbuild/buildChanged', () => true, 10_000);
  const s = await client.request<{ sections: SectionInfo[] }>('kbuild/listSections', { objectUri: uri(tmpObj) });
  assert.ok(!s.sections.some((x) => x.name === '.rel.llvm.call-graph-profile'));
  assert.ok(!s.sections.some((x) => x.offending));
  const r = await client.request<{ objects: ObjectInfo[] }>('kbuild/listObjects', {
    buildUri: uri(join(tree, 'build')),
  });
  assert.equal(r.objects.find((o) => o.stage === 'tmp')?.status, 'ok');
});
