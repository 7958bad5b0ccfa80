// The product against a real kernel build: Debian's linux-source-6.1 with the upstream fix line
// deleted, built for arm64 by clang-19 with a sample profile (scripts/build-nvhe.sh). The real build
// fails in gen-hyprel; the real server, over LSP, reports the warning (Makefile alone) and the error
// (with the build's objects); the edits it returns for form A and for form B, applied to the file,
// make the real build pass and the diagnostics clear.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  applyLspEdits,
  LspClient,
  type LspDiagnostic,
  type LspEditAction,
} from '../../../../../../test/helpers/lspClient';
import { missingToolchain, preparedTree } from '../../../../../../test/helpers/kernelBuild';

const RULE = 'nvhe-profile-metadata';
const NVHE = 'arch/arm64/kvm/hyp/nvhe';
const REAL_ERROR =
  'error: arch/arm64/kvm/hyp/nvhe/kvm_nvhe.tmp.o: Unexpected SHT_REL section ".rel.llvm.call-graph-profile"';

const missing = missingToolchain(['clang-19', 'ld.lld-19', 'llvm-objcopy-19', 'make'], ['6.1']);

interface Build {
  status: number;
  log: string;
}

/** Builds the nvhe directory (scripts/build-nvhe.sh: the first call prepares the tree, `tree` rebuilds it). */
function build(tree: string | undefined): { tree: string } & Build {
  const printed = preparedTree('build-nvhe.sh', tree ? ['--rebuild'] : []);
  const dir = tree ?? printed;
  return {
    tree: dir,
    status: Number(readFileSync(join(dir, '.nvhe-build.status'), 'utf8').trim()),
    log: readFileSync(join(dir, '.nvhe-build.log'), 'utf8'),
  };
}

type CodeAction = LspEditAction;

const ruleDiag = (d: { diagnostics: LspDiagnostic[] }) => d.diagnostics.find((x) => x.code === RULE);

/** The Makefile alone (a copy outside any build): a warning on the filter-out line. */
async function warningFromMakefileAlone(tree: string, makefilePath: string, prefix: string): Promise<void> {
  const mini = mkdtempSync(join(tmpdir(), 'kbd-mini-'));
  try {
    mkdirSync(join(mini, NVHE), { recursive: true });
    mkdirSync(join(mini, 'scripts'));
    copyFileSync(join(tree, 'scripts', 'Kbuild.include'), join(mini, 'scripts', 'Kbuild.include'));
    copyFileSync(makefilePath, join(mini, NVHE, 'Makefile'));
    copyFileSync(join(tree, NVHE, 'hyp.lds.S'), join(mini, NVHE, 'hyp.lds.S'));
    const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
    try {
      await lsp.initialize(mini);
      const uri = lsp.open(join(mini, NVHE, 'Makefile'), prefix);
      const pub = await lsp.diagnostics(uri, (p) => !!ruleDiag(p));
      const d = ruleDiag(pub);
      assert.ok(d);
      assert.equal(d.severity, 2, 'warning');
      assert.match(prefix.split('\n')[d.range.start.line], /^KBUILD_CFLAGS := \$\(filter-out \$\(CC_FLAGS_FTRACE\)/);
      assert.match(d.message, /-fprofile-sample-use=/);
      assert.ok(d.codeDescription?.href.endsWith('server/out/rules/nvhe-profile-metadata.md'));
    } finally {
      await lsp.stop();
    }
  } finally {
    rmSync(mini, { recursive: true, force: true });
  }
}

/** The patch the server writes for this form passes the kernel's own checkpatch.pl. */
async function assertPatchPassesCheckpatch(lsp: LspClient, uri: string, tree: string, form: 'A' | 'B'): Promise<void> {
  const patch = await lsp.request<{ patch: string | null }>('kbuild/makePatch', { makefileUri: uri, fix: form });
  assert.ok(patch.patch);
  const patchFile = join(tree, `.kbd-form-${form}.patch`);
  writeFileSync(patchFile, patch.patch);
  const checkpatch = spawnSync('perl', ['scripts/checkpatch.pl', '--no-tree', '--strict', patchFile], {
    cwd: tree,
    encoding: 'utf8',
  });
  rmSync(patchFile, { force: true });
  assert.match(checkpatch.stdout, /total: 0 errors, 0 warnings, 0 checks/, checkpatch.stdout);
}

/** The error from the objects; the server's edit for `form`, applied, makes the real build pass and clears it. */
async function formFixesRealBuild(tree: string, makefilePath: string, prefix: string, form: 'A' | 'B'): Promise<void> {
  writeFileSync(makefilePath, prefix);
  const rebuilt = build(tree);
  assert.notEqual(rebuilt.status, 0, 'the pre-fix tree fails again');
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  try {
    await lsp.initialize(tree, {}, { workspace: { didChangeWatchedFiles: { dynamicRegistration: false } } });
    const uri = lsp.open(makefilePath, prefix);
    const pub = await lsp.diagnostics(uri, (p) => ruleDiag(p)?.severity === 1, 60_000);
    const d = ruleDiag(pub);
    assert.ok(d);
    assert.ok(d.message.includes('kvm_nvhe.tmp.o'), 'names the object');
    assert.ok(d.message.includes('.rel.llvm.call-graph-profile'), 'names the section');
    assert.ok(d.message.includes('-fprofile-sample-use='), 'names the flag');
    assert.ok(d.message.includes(REAL_ERROR), `says what gen-hyprel prints, as the real one did: ${d.message}`);

    const actions = await lsp.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: d.range,
      context: { diagnostics: [d], only: ['quickfix'] },
    });
    assert.deepEqual(
      actions.map((a) => a.isPreferred ?? false),
      [true, false],
      'form A preferred, then form B',
    );
    const action = actions[form === 'A' ? 0 : 1];
    assert.match(
      action.title,
      form === 'A'
        ? /^Filter profile-use flags out of KBUILD_CFLAGS/
        : /^Remove \.llvm\.call-graph-profile before gen-hyprel/,
    );
    await assertPatchPassesCheckpatch(lsp, uri, tree, form);

    const change = action.edit.documentChanges[0];
    assert.equal(change.textDocument.version, 1, 'the edit names the document version');
    const fixed = applyLspEdits(prefix, change.edits);
    writeFileSync(makefilePath, fixed);
    lsp.change(uri, 2, fixed);

    const after = build(tree);
    assert.equal(after.status, 0, `the real build passes after form ${form}:\n${after.log.slice(-2000)}`);
    const objects = execFileSync('llvm-readelf-19', ['-S', join(tree, NVHE, 'kvm_nvhe.o')], { encoding: 'utf8' });
    assert.ok(!objects.includes('call-graph-profile'), 'kvm_nvhe.o has no call-graph section');
    // The build changed: tell the server as an editor's file watcher would.
    lsp.notify('workspace/didChangeWatchedFiles', {
      changes: [{ uri: pathToFileURL(join(tree, NVHE, 'kvm_nvhe.tmp.o')).toString(), type: 2 }],
    });
    lsp.change(uri, 3, fixed);
    const cleared = await lsp.diagnostics(
      uri,
      (p) => p.version === 3 && !p.diagnostics.some((x) => x.code === RULE || x.code === 'nvhe-profile-alias'),
      60_000,
    );
    assert.equal(
      cleared.diagnostics.filter(
        (x) => x.source === 'kbuild-diagnostics' && x.severity !== undefined && x.severity <= 2,
      ).length,
      0,
    );
  } finally {
    await lsp.stop();
    writeFileSync(makefilePath, prefix);
  }
}

test(
  'real Linux 6.1 nvhe build: diagnostics, both quick-fixes, real rebuilds',
  { skip: missing ?? false, timeout: 40 * 60_000 },
  async (t) => {
    // 1. The pre-fix tree fails exactly as reported.
    const first = build(undefined);
    const tree = first.tree;
    const makefilePath = join(tree, NVHE, 'Makefile');
    const prefix = readFileSync(makefilePath, 'utf8');
    assert.notEqual(first.status, 0, 'the pre-fix build fails');
    assert.ok(first.log.includes(REAL_ERROR), 'gen-hyprel printed the known error');

    // 2. The Makefile alone: a warning. 3. Each form fixes the real build.
    await t.test('warning from the Makefile alone', () => warningFromMakefileAlone(tree, makefilePath, prefix));
    for (const form of ['A', 'B'] as const) {
      await t.test(`form ${form}: error from the objects, the server's edit fixes the real build`, () =>
        formFixesRealBuild(tree, makefilePath, prefix, form),
      );
    }
    // Leave the cached tree in its pre-fix state for the next run.
    writeFileSync(makefilePath, prefix);
  },
);
