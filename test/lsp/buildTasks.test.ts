// Build tasks from the real server process over LSP stdio, on a copy of the sample kernel tree (its
// build/ O= directory holds real clang-19 objects and their .cmd files): the command each directory
// with a finding gets is derived from what that build directory records (O= from its generated
// Makefile, ARCH from the compile's --target, LLVM= from the compiler and linker the .cmd files name,
// KCFLAGS from the flag the rule's finding rests on); a flag the Makefile adds itself is not passed
// again; tasks.json definitions resolve to the same command; and a "rebuild to confirm" diagnostic
// (stale evidence after form A) gets the code action that runs this task.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildTask, buildTasks } from '../../server/src/lspExt';
import { applyLspEdits, LspClient, type LspDiagnostic, type LspCodeAction } from '../helpers/lspClient';
import { root } from '../helpers/kernelTree';

const NVHE = 'arch/arm64/kvm/hyp/nvhe';
const STALE = 'nvhe-stale-build';
let tree: string;
let lsp: LspClient;
let makefile: string;
let text: string;

type CodeAction = LspCodeAction;

/** The profile flag exactly as the build's .cmd file records it (what KCFLAGS must pass again). */
function recordedFlag(): string {
  const cmd = readFileSync(join(tree, 'build', NVHE, '.switch.nvhe.o.cmd'), 'utf8');
  const m = /\s(-fprofile-sample-use=\S+)\s/.exec(cmd);
  assert.ok(m, 'the fixture records a profile flag');
  return m[1];
}

before(async () => {
  tree = mkdtempSync(join(tmpdir(), 'kbd-tasks-'));
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
  makefile = join(tree, NVHE, 'Makefile');
  text = readFileSync(makefile, 'utf8');
  lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  await lsp.initialize(tree);
  await lsp.waitFor<{ uri: string; diagnostics: LspDiagnostic[] }>(
    'textDocument/publishDiagnostics',
    (p) => p.uri === pathToFileURL(makefile).toString() && p.diagnostics.length > 0,
    30_000,
    true,
  );
});

after(async () => {
  await lsp.stop();
  rmSync(tree, { recursive: true, force: true });
});

test('each directory with a finding gets the make its build directory records', async () => {
  const { tasks } = await lsp.send(buildTasks, {});
  assert.equal(tasks.length, 1, JSON.stringify(tasks));
  const t = tasks[0];
  assert.equal(t.label, `build ${NVHE}/`);
  assert.equal(t.directory, `${NVHE}/`);
  assert.equal(t.command, 'make');
  assert.equal(t.cwd, tree, 'make runs in the kernel tree, as a user types it');
  assert.equal(t.buildDir, join(tree, 'build'));
  // O=: build/ is an O= directory (its generated Makefile and source link); ARCH: --target=aarch64-linux-gnu;
  // LLVM=-19: clang-19 compiles and ld.lld-19 links; KCFLAGS: the profile flag the .cmd files show.
  assert.deepEqual(t.args, ['O=build', 'ARCH=arm64', 'LLVM=-19', `KCFLAGS=${recordedFlag()}`, `${NVHE}/`]);
  assert.equal(t.commandLine, `make O=build ARCH=arm64 LLVM=-19 KCFLAGS=${recordedFlag()} ${NVHE}/`);
  assert.deepEqual(t.notes, []);
});

test('a tasks.json definition resolves to the same command; a bad one says why', async () => {
  const { tasks } = await lsp.send(buildTasks, {});
  const byDefinition = await lsp.send(buildTask, {
    folder: tree,
    directory: `${NVHE}/`,
  });
  assert.deepEqual(byDefinition.task, tasks[0]);
  const withBuildDir = await lsp.send(buildTask, {
    folder: tree,
    directory: NVHE,
    buildDirectory: 'build',
  });
  assert.deepEqual(withBuildDir.task?.args, tasks[0].args);
  const outside = await lsp.send(buildTask, {
    folder: tree,
    directory: '../elsewhere',
  });
  assert.equal(outside.task, null);
  assert.match(outside.reason ?? '', /relative to the kernel tree/);
});

test('a flag the Makefile adds by itself is not passed again as KCFLAGS', async () => {
  const uri = lsp.open(makefile, text.replace(/^ccflags-y := /m, `ccflags-y := ${recordedFlag()} `), 'kbuild', 1);
  await lsp.diagnostics(uri, (p) => p.version === 1);
  const r = await lsp.send(buildTask, { makefileUri: uri });
  assert.deepEqual(r.task?.args, ['O=build', 'ARCH=arm64', 'LLVM=-19', `${NVHE}/`]);
  lsp.change(uri, 2, text);
  await lsp.diagnostics(uri, (p) => p.version === 2);
});

test('after form A the stale-evidence diagnostic offers "rebuild to confirm", which runs this task', async () => {
  const uri = pathToFileURL(makefile).toString();
  const actions = await lsp.request<CodeAction[]>('textDocument/codeAction', {
    textDocument: { uri },
    range: { start: { line: 0, character: 0 }, end: { line: text.split('\n').length, character: 0 } },
    context: { diagnostics: [] },
  });
  const formA = actions.find((a) => /form A/i.test(a.title) || /filter/i.test(a.title));
  assert.ok(formA?.edit, `a form A quick-fix: ${actions.map((a) => a.title).join(' | ')}`);
  assert.ok(!actions.some((a) => a.command), 'no rebuild action while the build shows the problem');
  const fixed = applyLspEdits(text, formA.edit.documentChanges[0].edits);
  lsp.change(uri, 3, fixed);
  const pub = await lsp.diagnostics(uri, (p) => p.version === 3);
  const stale = pub.diagnostics.find((d) => d.code === STALE);
  assert.ok(stale, `stale evidence after the fix: ${pub.diagnostics.map((d) => d.code).join(', ')}`);
  assert.match(stale.message, /Rebuild to confirm/);
  const after = await lsp.request<CodeAction[]>('textDocument/codeAction', {
    textDocument: { uri },
    range: stale.range,
    context: { diagnostics: [stale] },
  });
  const rebuild = after.filter((a) => a.command?.command === 'kbuildDiagnostics.rebuild');
  assert.equal(rebuild.length, 1, after.map((a) => a.title).join(' | '));
  assert.equal(rebuild[0].kind, 'quickfix');
  assert.equal(rebuild[0].title, `Rebuild ${NVHE}/ to confirm (Kbuild build task)`);
  assert.deepEqual(
    rebuild[0].diagnostics?.map((d) => d.code),
    [STALE],
  );
  assert.deepEqual(rebuild[0].command?.arguments, [{ makefileUri: uri }]);
  // The command's argument names the file; the task it runs still passes the flag the stale build had.
  const r = await lsp.send(buildTask, { makefileUri: uri });
  assert.deepEqual(r.task?.args, ['O=build', 'ARCH=arm64', 'LLVM=-19', `KCFLAGS=${recordedFlag()}`, `${NVHE}/`]);
});
