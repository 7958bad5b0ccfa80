// Suite on Debian's linux-source-6.12 with an O= build directory configured by `make O=out ARCH=arm64
// LLVM=-19 defconfig` (scripts/build-config-6.12.sh, the kernel tier's tree): the configuration view
// of arch/arm64/Makefile in the real workbench. The faded branches (Hint diagnostics tagged Unnecessary,
// code inactive-branch) and the inlay hints are checked through the VS Code API against what the
// test computes itself from out/.config and the Makefile text (test/helpers/configExpect.ts); then the
// editor is left showing both for the harness's UI checks and screenshot (test/e2e/configUi.mjs),
// with the lines it must find faded and the hints it must find written to $KBD_E2E_UI_DIR/expect.json.
// The tree is shared and cached: nothing is edited or saved.
import * as vscode from 'vscode';
import { existsSync, lstatSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Branch, conditionals, expectedFaded, inUndecided, readDotConfig } from '../../helpers/configExpect';
import { Suite, assert, SOURCE, activeExtension, codeValue, describeDiagnostics, openDoc, waitFor, wsUri } from './lib';

const MAKEFILE = 'arch/arm64/Makefile';
const INACTIVE = 'inactive-branch';
/** The part of the file the editor shows for the UI checks: option tests with taken and faded branches. */
const VIEW_FROM = /^ifneq \(\$\(CONFIG_UNWIND_TABLES\),y\)/;

function inactive(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === SOURCE && codeValue(d.code) === INACTIVE);
}

const rangeKey = (d: vscode.Diagnostic) => `${d.range.start.line}-${d.range.end.line}`;

function labelText(h: vscode.InlayHint): string {
  return typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('');
}

export async function run(): Promise<void> {
  const s = new Suite('real-config');
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const uri = wsUri(MAKEFILE);
  const config = readDotConfig(path.join(root, 'out', '.config'));
  let doc: vscode.TextDocument | undefined;
  let faded: vscode.Diagnostic[] = [];
  let hints: vscode.InlayHint[] = [];

  s.test('the tree has an O= build directory configured by defconfig (out/.config, out/source)', () => {
    assert.ok(existsSync(path.join(root, 'out', '.config')), 'out/.config');
    assert.ok(lstatSync(path.join(root, 'out', 'source')).isSymbolicLink(), 'out/source is the link Kbuild writes');
    assert.ok(!existsSync(path.join(root, '.config')), 'the source tree itself is not configured');
    assert.equal(config.get('CONFIG_ARM64'), 'y');
  });

  s.test('the extension activates', async () => {
    await activeExtension(90_000);
  });

  s.test(
    `${MAKEFILE}: Hint + Unnecessary diagnostics (inactive-branch) on exactly the branches the configuration does not take`,
    async () => {
      doc = await openDoc(MAKEFILE);
      const lines = doc.getText().split('\n');
      const expected: string[] = [];
      const undecided: Branch[] = [];
      const chains = conditionals(lines, config);
      expectedFaded(chains, expected, undecided);
      assert.ok(expected.length >= 8, `expected faded branches: ${expected.join(', ')}`);
      const want = [...expected].sort().join(' ');
      const judged = () => inactive(uri).filter((d) => !inUndecided(rangeKey(d), undecided));
      // Published once the server has the configuration and the Kconfig-free model of the file: the
      // state waited for is the expected set; a timeout reports what was published instead.
      await waitFor(
        () => judged().map(rangeKey).sort().join(' ') === want,
        `the inactive-branch diagnostics of ${MAKEFILE} to be ${want}`,
        120_000,
        () =>
          `published (judged ones): ${judged().map(rangeKey).sort().join(' ') || 'none'}\n${describeDiagnostics(uri).split('\n').slice(0, 30).join('\n')}`,
      );
      faded = inactive(uri);
      for (const d of faded) {
        assert.equal(d.severity, vscode.DiagnosticSeverity.Hint, `${rangeKey(d)}: severity`);
        assert.deepEqual(d.tags, [vscode.DiagnosticTag.Unnecessary], `${rangeKey(d)}: tags`);
      }
      // Conditions the model cannot decide (a probe of rustc, a make command-line variable) are never faded.
      for (const probe of [/rustc-min-version/, /KBUILD_EXTMOD/]) {
        const chain = chains.find((c) => probe.test(c.branches[0].text));
        assert.ok(chain, `the file has a ${probe} test`);
        for (const b of chain.branches)
          assert.ok(
            !faded.some((d) => d.range.start.line >= b.first && d.range.start.line <= b.last),
            `${b.text} not faded`,
          );
      }
    },
    150_000,
  );

  s.test('inlay hints: the .config value (or unset) after every option the file names', async () => {
    assert.ok(doc, 'the Makefile is open');
    const d = doc;
    const lines = d.getText().split('\n');
    const named = lines.flatMap((l) => [...l.matchAll(/\$\(CONFIG_\w+\)|^\s*ifn?def\s+CONFIG_\w+/g)]).length;
    // Asked until answered for the whole file (the first request can come before the server has the model).
    hints = await waitFor(
      async () => {
        const h =
          (await vscode.commands.executeCommand<vscode.InlayHint[]>(
            'vscode.executeInlayHintProvider',
            uri,
            new vscode.Range(0, 0, d.lineCount, 0),
          )) ?? [];
        return h.length === named ? h : undefined;
      },
      `${named} inlay hints on ${MAKEFILE}`,
      60_000,
    );
    let unset = 0;
    for (const h of hints) {
      const before = lines[h.position.line].slice(0, h.position.character);
      const name = /(CONFIG_\w+)\)?$/.exec(before)?.[1];
      assert.ok(name, `a hint after an option: ${before}`);
      assert.equal(labelText(h), config.get(name) ?? 'unset', `${name} (line ${h.position.line + 1})`);
      if (!config.has(name)) unset++;
    }
    assert.ok(unset > 0 && unset < hints.length, 'both set and unset options are shown');
  });

  const uiDir = process.env.KBD_E2E_UI_DIR;
  if (uiDir)
    s.test('the editor shows faded branches and values for the UI checks', async () => {
      assert.ok(doc, 'the Makefile is open');
      const d = doc;
      const top = d
        .getText()
        .split('\n')
        .findIndex((l) => VIEW_FROM.test(l));
      assert.ok(top >= 0, `${MAKEFILE} has a line matching ${VIEW_FROM}`);
      await vscode.commands.executeCommand('workbench.action.closeSidebar');
      await vscode.commands.executeCommand('workbench.action.closePanel');
      const editor = await vscode.window.showTextDocument(d, { preview: false });
      const at = new vscode.Position(top, 0);
      editor.selection = new vscode.Selection(at, at);
      editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.AtTop);
      await waitFor(
        () => editor.visibleRanges.some((r) => r.start.line <= top + 1 && r.end.line > top + 20),
        `the editor to show lines ${top + 1}-${top + 21}`,
        20_000,
        () => `visible: ${JSON.stringify(editor.visibleRanges.map((r) => [r.start.line, r.end.line]))}`,
      );
      const fadedLines: number[] = [];
      for (const f of faded)
        for (let l = f.range.start.line; l <= f.range.end.line; l++)
          if (d.lineAt(l).text.trim()) fadedLines.push(l + 1);
      const byLine: Record<number, string[]> = {};
      for (const h of [...hints].sort((a, b) => a.position.compareTo(b.position)))
        (byLine[h.position.line + 1] ??= []).push(labelText(h));
      writeFileSync(
        path.join(uiDir, 'expect.json'),
        JSON.stringify({ file: path.basename(MAKEFILE), top: top + 1, fadedLines, hints: byLine }, null, 1),
      );
    });

  await s.run();
}
