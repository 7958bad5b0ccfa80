// The real server process over LSP stdio, on a copy of the sample kernel tree (its build/ O=
// directory holds real clang-19 objects with the call-graph sections): diagnostics, quick-fixes
// applied to the text, fixAll, hover, outline, the patch command, and errors that keep it serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { applyLspEdits, LspClient, type LspDiagnostic, type LspEditAction } from '../helpers/lspClient';
import { root } from '../helpers/kernelTree';

const RULE = 'nvhe-profile-metadata';
const NVHE = 'arch/arm64/kvm/hyp/nvhe';
let tree: string;
let lsp: LspClient;
let makefile: string;
let text: string;

type CodeAction = LspEditAction;

before(async () => {
  tree = mkdtempSync(join(tmpdir(), 'kbd-lsp-'));
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
  makefile = join(tree, NVHE, 'Makefile');
  text = readFileSync(makefile, 'utf8');
  lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  await lsp.initialize(tree);
});

after(async () => {
  await lsp.stop();
  rmSync(tree, { recursive: true, force: true });
});

test('the workspace scan publishes the nvhe diagnostic before the file is opened', async () => {
  const uri = pathToFileURL(makefile).toString();
  const pub = await lsp.waitFor<{ uri: string; diagnostics: LspDiagnostic[] }>(
    'textDocument/publishDiagnostics',
    (p) => p.uri === uri && p.diagnostics.some((d) => d.code === RULE),
    30_000,
    true,
  );
  assert.equal(
    pub.diagnostics.find((d) => d.code === RULE)?.severity,
    1,
    'error: the build directory shows the sections',
  );
});

test('an open nvhe Makefile gets an error with evidence, a link and related lines', async () => {
  const uri = lsp.open(makefile, text, 'kbuild', 1);
  const pub = await lsp.diagnostics(uri, (p) => p.version === 1 && p.diagnostics.some((d) => d.code === RULE));
  const d = pub.diagnostics.find((x) => x.code === RULE);
  assert.ok(d);
  assert.equal(d.severity, 1);
  assert.equal(d.source, 'kbuild-diagnostics');
  assert.match(text.split('\n')[d.range.start.line], /^KBUILD_CFLAGS := \$\(filter-out/);
  assert.match(d.message, /kvm_nvhe\.tmp\.o/);
  assert.match(d.message, /\.rel\.llvm\.call-graph-profile \(REL\)/);
  assert.match(d.message, /-fprofile-sample-use=/);
  assert.match(d.message, /Unexpected SHT_REL section "\.rel\.llvm\.call-graph-profile"/);
  assert.ok(
    d.codeDescription?.href.startsWith('file://') &&
      d.codeDescription.href.endsWith('server/out/rules/nvhe-profile-metadata.md'),
  );
  const related = d.relatedInformation ?? [];
  assert.ok(
    related.some((r) => /gen-hyprel reads/.test(r.message)),
    'points at the gen-hyprel command',
  );
  assert.ok(
    related.some((r) => r.location.uri.endsWith('kvm_nvhe.tmp.o')),
    'points at the object',
  );
  assert.ok(
    related.some((r) => r.location.uri.endsWith('.cmd') && /compiled with -fprofile-sample-use=/.test(r.message)),
    'points at the .cmd flag',
  );
});

test('quick-fixes: form A preferred, form B; each applied to the text clears the diagnostic', async () => {
  const uri = pathToFileURL(makefile).toString();
  const pub = await lsp.waitFor<{ uri: string; diagnostics: LspDiagnostic[] }>(
    'textDocument/publishDiagnostics',
    (p) => p.uri === uri && p.diagnostics.some((x) => x.code === RULE),
    30_000,
    true,
  );
  const d: LspDiagnostic | undefined = pub.diagnostics.find((x) => x.code === RULE);
  assert.ok(d);
  const ask = () =>
    lsp.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: d.range,
      context: { diagnostics: [d], only: ['quickfix'] },
    });
  const actions = await ask();
  assert.equal(actions.length, 2);
  assert.equal(actions[0].isPreferred, true);
  assert.match(actions[0].title, /^Filter profile-use flags out of KBUILD_CFLAGS/);
  assert.match(actions[1].title, /^Remove \.llvm\.call-graph-profile before gen-hyprel/);
  let version = 1;
  for (const index of [0, 1]) {
    const a = (await ask())[index];
    const change = a.edit.documentChanges[0];
    assert.equal(change.textDocument.version, version, 'edit built against the current version');
    const fixed = applyLspEdits(text, change.edits);
    version++;
    lsp.change(uri, version, fixed);
    const cleared = await lsp.diagnostics(uri, (p) => p.version === version);
    assert.deepEqual(
      cleared.diagnostics.filter((x) => x.code === RULE),
      [],
      `${a.title} clears it`,
    );
    // Offered only when needed: nothing for the fixed text.
    const again: CodeAction[] = await lsp.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: d.range,
      context: { diagnostics: [], only: ['quickfix', 'source.fixAll'] },
    });
    assert.deepEqual(again, []);
    version++;
    lsp.change(uri, version, text);
    await lsp.diagnostics(uri, (p) => p.version === version && p.diagnostics.some((x) => x.code === RULE));
  }
});

test('source.fixAll applies form A', async () => {
  const uri = pathToFileURL(makefile).toString();
  const actions = await lsp.request<CodeAction[]>('textDocument/codeAction', {
    textDocument: { uri },
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    context: { diagnostics: [], only: ['source.fixAll'] },
  });
  assert.equal(actions.length, 1);
  assert.equal(actions[0].kind, 'source.fixAll.kbuild-diagnostics');
  assert.match(
    applyLspEdits(text, actions[0].edit.documentChanges[0].edits),
    /KBUILD_CFLAGS := \$\(filter-out -fprofile-sample-use=%/,
  );
});

test('the patch command writes a patch that git am takes', async () => {
  const uri = pathToFileURL(makefile).toString();
  for (const form of ['A', 'B']) {
    const r = await lsp.request<{ patch: string | null; fileName?: string }>('kbuild/makePatch', {
      makefileUri: uri,
      fix: form,
    });
    assert.ok(r.patch && r.fileName);
    assert.match(r.patch, /^Subject: \[PATCH\] KVM: arm64: nvhe: /m);
    const [header, diff] = r.patch.split('\n---\n');
    // checkpatch: body prose within 75 columns (quoted output and tags are exempt).
    for (const line of header.split('\n').slice(4)) {
      if (line.startsWith('  ') || /^[A-Za-z-]+-by: /.test(line)) continue;
      assert.ok(line.length <= 75, `body line <= 75 columns: ${line}`);
    }
    for (const line of diff.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++')))
      assert.ok(!/[ \t]$/.test(line), `no trailing whitespace: ${JSON.stringify(line)}`);
    // git am on a throwaway repository holding the same tree file.
    const repo = mkdtempSync(join(tmpdir(), 'kbd-am-'));
    try {
      mkdirSync(join(repo, NVHE), { recursive: true });
      writeFileSync(join(repo, NVHE, 'Makefile'), text);
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' });
      git('init', '-q');
      git('add', '.');
      git('commit', '-qm', 'base');
      writeFileSync(join(repo, 'fix.patch'), r.patch);
      git('am', '-q', 'fix.patch');
      assert.match(git('log', '-1', '--format=%s'), /^KVM: arm64: nvhe: /);
      assert.ok(
        readFileSync(join(repo, NVHE, 'Makefile'), 'utf8').includes(
          form === 'A' ? '-fprofile-sample-use=%' : '$(OBJCOPY) -R .llvm.call-graph-profile $<;',
        ),
      );
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  }
});

test('hover and outline on the Kbuild Makefile', async () => {
  const uri = pathToFileURL(makefile).toString();
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.startsWith('KBUILD_CFLAGS :='));
  const hover = await lsp.request<{ contents: { kind: string; value: string } } | null>('textDocument/hover', {
    textDocument: { uri },
    position: { line, character: 3 },
  });
  assert.ok(hover);
  assert.equal(hover.contents.kind, 'markdown');
  assert.match(hover.contents.value, /KBUILD_CFLAGS/);
  assert.match(hover.contents.value, new RegExp(`${line + 1}`), 'says where it is set');
  assert.match(
    hover.contents.value,
    /nVHE:\*\* these profile-use flags reach the hyp compiles: `-fprofile-sample-use=…`/,
    'says which profile flags get through',
  );
  const symbols = await lsp.request<{ name: string; children?: { name: string }[] }[]>('textDocument/documentSymbol', {
    textDocument: { uri },
  });
  const names = JSON.stringify(symbols);
  for (const n of ['cmd_hyprel', 'cmd_hypcopy', 'KBUILD_CFLAGS']) assert.ok(names.includes(`"${n}"`), n);
});

test('an ordinary Makefile gets no nvhe diagnostic; a broken one gets a syntax diagnostic', async () => {
  const plain = join(tree, 'plain.mk');
  const uri = lsp.open(plain, 'all:\n\techo hi\n', 'makefile');
  const pub = await lsp.diagnostics(uri);
  assert.deepEqual(pub.diagnostics, []);
  const broken = lsp.open(join(tree, 'broken.mk'), 'define FOO\nnever ended\n', 'makefile');
  const b = await lsp.diagnostics(broken, (p) => p.diagnostics.length > 0);
  assert.ok(
    b.diagnostics.some((d) => d.code === 'make-syntax' && /endef/i.test(d.message)),
    JSON.stringify(b.diagnostics),
  );
});

test('a failing request returns an LSP error and the server keeps serving', async () => {
  await assert.rejects(lsp.request('kbuild/noSuchRequest', {}));
  const bad = await lsp.request<{ patch: unknown; reason?: string }>('kbuild/makePatch', { makefileUri: 42, fix: 'A' });
  assert.equal(bad.patch, null);
  const r = await lsp.request<{ edit: unknown; reason?: string }>('kbuild/fixEdit', {
    makefileUri: pathToFileURL(join(tree, 'plain.mk')).toString(),
    fix: 'A',
  });
  assert.equal(r.edit, null);
  assert.ok(r.reason);
});
