// Suite on a fresh copy of the sample kernel tree (test/fixtures/sample-kernel), whose O= build
// directory build/ holds the evidence: profile objects, kvm_nvhe.tmp.o with the SHT_REL
// .rel.llvm.call-graph-profile section, the .cmd files, no hyp-reloc.S.
import * as vscode from 'vscode';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  Suite,
  assert,
  EXT_ID,
  NVHE_MAKEFILE,
  CODE,
  activeExtension,
  openDoc,
  wsUri,
  nvheDiagnostic,
  ours,
  codeValue,
  waitFor,
  offeredFixes,
  applyAction,
  setText,
  findLine,
  filterOutWords,
  logicalLines,
  hoverText,
  flattenSymbols,
  describeDiagnostics,
  workspaceRoot,
} from './lib';

const FIX_A = 'Filter profile-use flags out of KBUILD_CFLAGS';
const FIX_B = 'Remove .llvm.call-graph-profile before gen-hyprel';
const COMMANDS = [
  'kbuildDiagnostics.refreshSections',
  'kbuildDiagnostics.applyFixA',
  'kbuildDiagnostics.applyFixB',
  'kbuildDiagnostics.writePatch',
  'kbuildDiagnostics.openSectionTable',
  'kbuildDiagnostics.compareObjects',
  'kbuildDiagnostics.pickBuildDirectory',
];
const EXISTING_FILTER = /^KBUILD_CFLAGS\s*:=\s*\$\(filter-out\s+\$\(CC_FLAGS_FTRACE\)/;

interface Manifest {
  activationEvents?: string[];
  contributes?: {
    languages?: { id: string; filenames?: string[]; filenamePatterns?: string[] }[];
    grammars?: { language: string; scopeName: string }[];
    viewsContainers?: { activitybar?: { id: string; title: string }[] };
    views?: Record<string, { id: string; name: string }[]>;
    commands?: { command: string; title: string }[];
    configuration?: { properties?: Record<string, unknown> } | { properties?: Record<string, unknown> }[];
  };
}

export async function run(): Promise<void> {
  const s = new Suite('sample');
  const makefile = wsUri(NVHE_MAKEFILE);
  let original = '';

  s.test('the extension activates in a kernel workspace', async () => {
    await activeExtension();
  });

  s.test('manifest declares the activation events, language, grammar, view, commands and setting', () => {
    const m = vscode.extensions.getExtension(EXT_ID)!.packageJSON as Manifest;
    for (const ev of [
      'workspaceContains:Kbuild',
      'workspaceContains:scripts/Kbuild.include',
      'workspaceContains:arch/arm64/kvm/hyp/nvhe/Makefile',
    ]) {
      assert.ok(m.activationEvents?.includes(ev), `activationEvents lacks ${ev}`);
    }
    const c = m.contributes ?? {};
    assert.ok(
      c.languages?.some((l) => l.id === 'kbuild' && l.filenames?.includes('Kbuild')),
      'language kbuild for Kbuild files',
    );
    assert.ok(
      c.grammars?.some((g) => g.language === 'kbuild' && g.scopeName === 'source.kbuild'),
      'grammar source.kbuild',
    );
    assert.ok(
      c.viewsContainers?.activitybar?.some((v) => v.id === 'kbuildDiagnostics' && v.title === 'Kbuild'),
      'activity bar container kbuildDiagnostics titled "Kbuild"',
    );
    assert.ok(
      c.views?.kbuildDiagnostics?.some((v) => v.id === 'kbuildDiagnostics.sections' && v.name === 'Sections'),
      'view kbuildDiagnostics.sections named "Sections"',
    );
    const declared = new Set((c.commands ?? []).map((x) => x.command));
    const missing = COMMANDS.filter((x) => !declared.has(x));
    assert.deepEqual(missing, [], `contributes.commands lacks ${missing.join(', ')}`);
    const conf = Array.isArray(c.configuration) ? c.configuration : c.configuration ? [c.configuration] : [];
    assert.ok(
      conf.some((x) => x.properties && 'kbuildDiagnostics.buildDirectory' in x.properties),
      'setting kbuildDiagnostics.buildDirectory',
    );
  });

  s.test('every kbuildDiagnostics command is registered', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    const missing = COMMANDS.filter((x) => !all.has(x));
    assert.deepEqual(missing, [], `not registered: ${missing.join(', ')}`);
  });

  s.test('Kbuild and .cmd files are kbuild documents; the nvhe Makefile is switched to kbuild', async () => {
    const kbuild = await openDoc('Kbuild');
    assert.equal(kbuild.languageId, 'kbuild', 'Kbuild');
    const cmd = await openDoc('build/arch/arm64/kvm/hyp/nvhe/.hyp-main.nvhe.o.cmd');
    assert.equal(cmd.languageId, 'kbuild', '.hyp-main.nvhe.o.cmd');
    const doc = await openDoc(NVHE_MAKEFILE);
    original = doc.getText();
    await waitFor(
      () =>
        vscode.workspace.textDocuments.find((d) => d.uri.toString() === makefile.toString())?.languageId === 'kbuild',
      'the nvhe Makefile to get language id kbuild',
      15_000,
      () =>
        `language id is ${vscode.workspace.textDocuments.find((d) => d.uri.toString() === makefile.toString())?.languageId}`,
    );
  });

  s.test('nvhe Makefile: an Error with code nvhe-profile-metadata on the KBUILD_CFLAGS filter-out line', async () => {
    const doc = await openDoc(NVHE_MAKEFILE);
    const d = await nvheDiagnostic(makefile);
    assert.equal(
      d.severity,
      vscode.DiagnosticSeverity.Error,
      `severity is ${vscode.DiagnosticSeverity[d.severity]}, expected Error (build/ holds the evidence)`,
    );
    const line = findLine(doc.getText(), EXISTING_FILTER);
    assert.ok(line >= 0, 'sample Makefile has the filter-out line');
    assert.equal(
      d.range.start.line,
      line,
      `diagnostic is on line ${d.range.start.line + 1}, the filter-out line is ${line + 1}`,
    );
    assert.ok(d.message.length > 20, 'diagnostic has a message');
    assert.equal(
      ours(makefile).filter((x) => codeValue(x.code) === CODE).length,
      1,
      'exactly one nvhe-profile-metadata diagnostic',
    );
  });

  s.test('quick fixes: form A (preferred) and form B are offered', async () => {
    const doc = await openDoc(NVHE_MAKEFILE);
    await nvheDiagnostic(makefile);
    const actions = await offeredFixes(doc, [FIX_A, FIX_B]);
    const titles = actions.map((a) => a.title);
    const a = actions.find((x) => x.title.startsWith(FIX_A));
    const b = actions.find((x) => x.title.startsWith(FIX_B));
    assert.ok(a, `no "${FIX_A}…" among ${JSON.stringify(titles)}`);
    assert.ok(b, `no "${FIX_B}…" among ${JSON.stringify(titles)}`);
    assert.equal(a.isPreferred, true, 'form A is the preferred fix');
    assert.ok(a.kind && vscode.CodeActionKind.QuickFix.contains(a.kind), 'form A is a quickfix');
    assert.ok(b.kind && vscode.CodeActionKind.QuickFix.contains(b.kind), 'form B is a quickfix');
  });

  s.test('hover on KBUILD_CFLAGS says where it is set', async () => {
    const doc = await openDoc(NVHE_MAKEFILE);
    const line = findLine(doc.getText(), EXISTING_FILTER);
    const hovers =
      (await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        makefile,
        new vscode.Position(line, 3),
      )) ?? [];
    const text = hoverText(hovers);
    assert.ok(text.includes('KBUILD_CFLAGS'), `hover does not mention KBUILD_CFLAGS: ${JSON.stringify(text)}`);
    assert.match(text, /\bset\b|assign|defin/i, `hover does not say where it is set: ${JSON.stringify(text)}`);
    assert.match(
      text,
      new RegExp(`Makefile|line ${line + 1}|:${line + 1}\\b`),
      `hover names no place (file or line ${line + 1}): ${JSON.stringify(text)}`,
    );
  });

  s.test('document symbols of the nvhe Makefile list cmd_hyprel and KBUILD_CFLAGS', async () => {
    const symbols =
      (await vscode.commands.executeCommand<(vscode.DocumentSymbol | vscode.SymbolInformation)[]>(
        'vscode.executeDocumentSymbolProvider',
        makefile,
      )) ?? [];
    const names = flattenSymbols(symbols);
    for (const n of ['cmd_hyprel', 'KBUILD_CFLAGS'])
      assert.ok(names.includes(n), `${n} not among symbols ${JSON.stringify(names.slice(0, 40))}`);
  });

  s.test('form B: cmd_hyprel runs $(OBJCOPY) -R .llvm.call-graph-profile before gen-hyprel', async () => {
    const doc = await openDoc(NVHE_MAKEFILE);
    const before = doc.getText();
    await nvheDiagnostic(makefile);
    const b = (await offeredFixes(doc, [FIX_B])).find((x) => x.title.startsWith(FIX_B));
    assert.ok(b, 'form B is offered');
    await applyAction(b, doc);
    const after = doc.getText();
    try {
      const line = after.split('\n').find((l) => /^\s*cmd_hyprel\s*=/.test(l));
      assert.ok(line, 'cmd_hyprel is still defined');
      const rm = line.indexOf('$(OBJCOPY) -R .llvm.call-graph-profile $<;');
      const gen = line.indexOf('gen-hyprel');
      assert.ok(rm >= 0, `cmd_hyprel does not run "$(OBJCOPY) -R .llvm.call-graph-profile $<;": ${line}`);
      assert.ok(gen > rm, `gen-hyprel does not come after the objcopy: ${line}`);
      // Only cmd_hyprel changed (comment lines may be added).
      const bl = before.split('\n');
      const al = after.split('\n');
      const changed = al.filter((l) => !bl.includes(l));
      const removed = bl.filter((l) => !al.includes(l));
      assert.ok(
        changed.every((l) => l === line || /^\s*(#.*)?$/.test(l)),
        `form B changed more than cmd_hyprel: ${JSON.stringify(changed)}`,
      );
      assert.ok(
        removed.every((l) => /^\s*cmd_hyprel\s*=/.test(l)),
        `form B removed other lines: ${JSON.stringify(removed)}`,
      );
    } finally {
      await setText(doc, before);
    }
    assert.equal(doc.getText(), original, 'Makefile restored');
  });

  s.test(
    'form A: inserts the profile filter-out right after the existing one, nothing else changes, the diagnostic goes away',
    async () => {
      const doc = await openDoc(NVHE_MAKEFILE);
      const before = doc.getText();
      await nvheDiagnostic(makefile);
      const a = (await offeredFixes(doc, [FIX_A])).find((x) => x.title.startsWith(FIX_A));
      assert.ok(a, 'form A is offered');
      await applyAction(a, doc);
      const bl = before.split('\n');
      const al = doc.getText().split('\n');
      const at = findLine(before, EXISTING_FILTER);
      const added = al.length - bl.length;
      assert.ok(added >= 1, `form A added ${added} lines`);
      assert.deepEqual(
        al.slice(0, at + 1),
        bl.slice(0, at + 1),
        'lines up to the existing filter-out line are unchanged',
      );
      assert.deepEqual(al.slice(at + 1 + added), bl.slice(at + 1), 'lines after the insertion are unchanged');
      const inserted = logicalLines(al.slice(at + 1, at + 1 + added));
      const filters = inserted.map(filterOutWords).filter((w): w is string[] => !!w);
      assert.equal(filters.length, 1, `expected one KBUILD_CFLAGS filter-out line among ${JSON.stringify(inserted)}`);
      for (const w of ['-fprofile-sample-use=%', '-fprofile-use=%'])
        assert.ok(filters[0].includes(w), `the new filter-out does not filter ${w}: ${JSON.stringify(inserted)}`);
      assert.ok(
        inserted.some((l) => /^\s*#\s*\S/.test(l)),
        `no comment inserted with the fix: ${JSON.stringify(inserted)}`,
      );
      assert.ok(
        inserted.every((l) => filterOutWords(l) || /^\s*(#.*)?$/.test(l)),
        `unexpected inserted lines: ${JSON.stringify(inserted)}`,
      );
      assert.ok(await doc.save(), 'save');
      await waitFor(
        () => ours(makefile).every((x) => codeValue(x.code) !== CODE),
        'the nvhe-profile-metadata diagnostic to disappear after form A',
        20_000,
        () => describeDiagnostics(makefile),
      );
    },
  );

  // VS Code's colorization-test command exists only in the desktop workbench; in VS Code for the
  // Web the harness checks the scopes through "Developer: Inspect Editor Tokens and Scopes" (ui.mjs).
  if ((await vscode.commands.getCommands(true)).includes('_workbench.captureSyntaxTokens'))
    s.test('grammar: Kbuild tokens get kbuild scopes', async () => {
      const dir = path.join(workspaceRoot().fsPath, 'e2e-grammar');
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'Kbuild');
      const lines = [
        'obj-y += foo.o',
        'ccflags-y := -DFOO',
        'KBUILD_CFLAGS += -DBAR',
        '$(obj)/foo.o: $(src)/foo.c FORCE',
        '\t$(call if_changed,ld)',
        '',
      ];
      writeFileSync(file, lines.join('\n'));
      const uri = vscode.Uri.file(file);
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      assert.equal(doc.languageId, 'kbuild');
      const tokens = await waitFor(
        async () => {
          const t = await vscode.commands.executeCommand<{ c: string; t: string }[]>(
            '_workbench.captureSyntaxTokens',
            uri,
          );
          return Array.isArray(t) && t.length ? t : undefined;
        },
        '_workbench.captureSyntaxTokens to return tokens',
        20_000,
      );
      const dump = () => tokens.map((x) => `${JSON.stringify(x.c)} -> ${x.t}`).join('\n');
      assert.ok(
        tokens.every((x) => x.t.split(' ').includes('source.kbuild')),
        `not every token is under source.kbuild:\n${dump()}`,
      );
      // A scope of its own (not just the root source.kbuild) that names kbuild.
      const kbuildScope = (t: string) => t.split(' ').some((sc) => sc !== 'source.kbuild' && sc.includes('kbuild'));
      const scopedIn = (word: string) => {
        const inside = tokens.filter((x) => x.c.trim() && word.includes(x.c.trim()));
        return inside.length > 0 && inside.some((x) => kbuildScope(x.t));
      };
      for (const w of ['obj-y', 'ccflags-y', 'KBUILD_CFLAGS'])
        assert.ok(scopedIn(w), `${w} has no kbuild scope besides source.kbuild:\n${dump()}`);
      const callTokens = tokens.filter((x) => ['call', 'if_changed', '$(call', 'if_changed,ld'].includes(x.c.trim()));
      assert.ok(
        callTokens.some((x) => kbuildScope(x.t)),
        `$(call if_changed,ld) has no kbuild scope besides source.kbuild:\n${dump()}`,
      );
    });
  else
    console.log(
      '[e2e:sample] note: _workbench.captureSyntaxTokens is not in this workbench; the grammar is checked by the UI checks',
    );

  s.test('section explorer: the view opens and refreshes', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.kbuildDiagnostics');
    await vscode.commands.executeCommand('kbuildDiagnostics.sections.focus');
    await vscode.commands.executeCommand('kbuildDiagnostics.refreshSections');
    assert.ok(
      existsSync(path.join(workspaceRoot().fsPath, 'build/arch/arm64/kvm/hyp/nvhe/kvm_nvhe.tmp.o')),
      'sample build directory present',
    );
  });

  s.test('after restoring the pre-fix Makefile the diagnostic comes back (for the UI checks)', async () => {
    const doc = await openDoc(NVHE_MAKEFILE);
    assert.ok(original, 'original text was captured');
    await setText(doc, original);
    const d = await nvheDiagnostic(makefile);
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    await vscode.window.showTextDocument(doc, { selection: d.range }); // for the screenshot
    await vscode.commands.executeCommand('workbench.actions.view.problems');
  });

  await s.run();
}
