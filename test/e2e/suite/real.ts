// Suite on a real Linux 6.1 tree whose nvhe directory was built in-tree by clang-19 with a sample
// profile and the form-A fix line deleted (scripts/build-nvhe.sh), so gen-hyprel failed.
// The tree is shared and cached: this suite changes documents only in memory and reverts them.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import {
  Suite,
  assert,
  NVHE_MAKEFILE,
  activeExtension,
  openDoc,
  wsUri,
  nvheDiagnostic,
  offeredFixes,
  applyAction,
  revertUnsaved,
  findLine,
  filterOutWords,
  logicalLines,
  hoverText,
  flattenSymbols,
  workspaceRoot,
  waitFor,
} from './lib';

export async function run(): Promise<void> {
  const s = new Suite('real-nvhe');
  const makefile = wsUri(NVHE_MAKEFILE);
  const filterLine = /^KBUILD_CFLAGS\s*:=\s*\$\(filter-out\s+\$\(CC_FLAGS_FTRACE\)/;

  s.test('the tree holds the build evidence (kvm_nvhe.tmp.o, no hyp-reloc.S)', () => {
    const nvhe = path.join(workspaceRoot().fsPath, 'arch/arm64/kvm/hyp/nvhe');
    assert.ok(existsSync(path.join(nvhe, 'kvm_nvhe.tmp.o')), 'kvm_nvhe.tmp.o was built');
    assert.ok(!existsSync(path.join(nvhe, 'hyp-reloc.S')), 'hyp-reloc.S is absent (gen-hyprel failed)');
  });

  s.test('the extension activates', async () => {
    await activeExtension(60_000);
  });

  s.test(
    'nvhe Makefile: an Error with code nvhe-profile-metadata on the filter-out line',
    async () => {
      const doc = await openDoc(NVHE_MAKEFILE);
      const d = await nvheDiagnostic(makefile, 90_000);
      assert.equal(
        d.severity,
        vscode.DiagnosticSeverity.Error,
        `severity is ${vscode.DiagnosticSeverity[d.severity]}, expected Error`,
      );
      assert.equal(d.range.start.line, findLine(doc.getText(), filterLine));
    },
    120_000,
  );

  s.test('form A and form B are offered; form A edits the buffer as expected (reverted, not saved)', async () => {
    // The edit must stay in memory: the web workbench's default would save it after 1 s.
    assert.equal(
      vscode.workspace.getConfiguration('files').get('autoSave'),
      'off',
      'files.autoSave is off in this window (the harness sets it)',
    );
    const doc = await openDoc(NVHE_MAKEFILE);
    const before = doc.getText();
    await nvheDiagnostic(makefile);
    const FIX_A = 'Filter profile-use flags out of KBUILD_CFLAGS';
    const actions = await offeredFixes(doc, [FIX_A, 'Remove .llvm.call-graph-profile before gen-hyprel']);
    const a = actions.find((x) => x.title.startsWith(FIX_A));
    assert.ok(a, JSON.stringify(actions.map((x) => x.title)));
    assert.equal(a.isPreferred, true);
    await applyAction(a, doc);
    try {
      const at = findLine(before, filterLine);
      const al = doc.getText().split('\n');
      const added = al.length - before.split('\n').length;
      const inserted = logicalLines(al.slice(at + 1, at + 1 + added));
      const words = inserted.map(filterOutWords).find((w) => w);
      assert.ok(words, `no filter-out line inserted after line ${at + 1}: ${JSON.stringify(inserted)}`);
      for (const w of ['-fprofile-sample-use=%', '-fprofile-use=%']) assert.ok(words.includes(w), `${w} not filtered`);
      assert.deepEqual(al.slice(at + 1 + added), before.split('\n').slice(at + 1), 'rest of the file unchanged');
    } finally {
      await revertUnsaved(doc, before);
    }
    assert.equal(doc.getText(), before, 'reverted');
    assert.equal(doc.isDirty, false, 'not dirty after revert');
  });

  s.test('hover and document symbols work on the real Makefile', async () => {
    const doc = await openDoc(NVHE_MAKEFILE);
    const line = findLine(doc.getText(), filterLine);
    // Asked until the server answers (an empty answer: the client had not caught up with the revert).
    const hovers = await waitFor(async () => {
      const h =
        (await vscode.commands.executeCommand<vscode.Hover[]>(
          'vscode.executeHoverProvider',
          makefile,
          new vscode.Position(line, 3),
        )) ?? [];
      return h.length > 0 ? h : undefined;
    }, 'a hover on the KBUILD_CFLAGS line');
    assert.ok(hoverText(hovers).includes('KBUILD_CFLAGS'), `hover: ${JSON.stringify(hoverText(hovers))}`);
    const names = await waitFor(async () => {
      const n = flattenSymbols(
        (await vscode.commands.executeCommand<(vscode.DocumentSymbol | vscode.SymbolInformation)[]>(
          'vscode.executeDocumentSymbolProvider',
          makefile,
        )) ?? [],
      );
      return n.length > 0 ? n : undefined;
    }, 'document symbols of the nvhe Makefile');
    for (const n of ['cmd_hyprel', 'KBUILD_CFLAGS'])
      assert.ok(names.includes(n), `${n} not among ${JSON.stringify(names.slice(0, 40))}`);
  });

  await s.run();
}
