// General, not tuned: the sample tree with every pipeline name changed (the gen-hyprel input is
// `hyp_stage1.o`, the hyp objects `*.hyp.o`, the directory `arch/arm64/kvm/hyp/el2`). The rule, its
// evidence and the section explorer must find the pipeline by what the Makefile does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspClient, type LspDiagnostic } from '../helpers/lspClient';
import { root } from '../helpers/kernelTree';

const OLD = 'arch/arm64/kvm/hyp/nvhe';
const NEW = 'arch/arm64/kvm/hyp/el2';
let tree: string;
let lsp: LspClient;

function rename(text: string): string {
  return text.split(OLD).join(NEW).split('kvm_nvhe.tmp.o').join('hyp_stage1.o').split('.nvhe.o').join('.hyp.o');
}

before(async () => {
  tree = mkdtempSync(join(tmpdir(), 'kbd-renamed-'));
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
  for (const base of [tree, join(tree, 'build')]) {
    renameSync(join(base, OLD), join(base, NEW));
    const dir = join(base, NEW);
    for (const name of readdirSync(dir)) {
      const renamed = rename(name);
      if (renamed !== name) renameSync(join(dir, name), join(dir, renamed));
      if (name === 'Makefile' || name.endsWith('.cmd'))
        writeFileSync(join(dir, renamed), rename(readFileSync(join(dir, renamed), 'utf8')));
    }
  }
  lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  await lsp.initialize(tree);
});

after(async () => {
  await lsp.stop();
  rmSync(tree, { recursive: true, force: true });
});

test('the rule follows the renamed pipeline and reads the renamed objects', async () => {
  const makefile = join(tree, NEW, 'Makefile');
  const text = readFileSync(makefile, 'utf8');
  assert.ok(!text.includes('kvm_nvhe.tmp.o') && text.includes('hyp_stage1.o'));
  const uri = lsp.open(makefile, text);
  const pub = await lsp.diagnostics(uri, (p) => p.diagnostics.some((d) => d.code === 'nvhe-profile-metadata'));
  const d = pub.diagnostics.find((x) => x.code === 'nvhe-profile-metadata') as LspDiagnostic;
  assert.equal(d.severity, 1, 'error: evidence found under the renamed names');
  assert.match(d.message, /hyp_stage1\.o holds \.rel\.llvm\.call-graph-profile/);
  assert.ok(
    d.message.includes(`error: ${NEW}/hyp_stage1.o: Unexpected SHT_REL section ".rel.llvm.call-graph-profile"`),
    d.message,
  );
  assert.match(d.message, /\.hyp\.o was compiled with -fprofile-sample-use=/);
});

test('the explorer classifies the renamed stages by meaning', async () => {
  const { builds } = await lsp.request<{ builds: { uri: string }[] }>('kbuild/listBuildDirectories', {});
  const build = builds.find((b) => b.uri === pathToFileURL(join(tree, 'build')).toString());
  assert.ok(build, JSON.stringify(builds));
  const { objects } = await lsp.request<{ objects: { relativePath: string; stage: string; status: string }[] }>(
    'kbuild/listObjects',
    { buildUri: build.uri },
  );
  const stage1 = objects.find((o) => o.relativePath.endsWith('hyp_stage1.o'));
  assert.ok(stage1, JSON.stringify(objects));
  assert.equal(stage1.stage, 'tmp');
  assert.equal(stage1.status, 'offending');
  assert.ok(
    objects.some((o) => o.relativePath.endsWith('switch.hyp.o') && o.stage === 'hyp-object'),
    JSON.stringify(objects),
  );
});
