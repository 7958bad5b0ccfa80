// A second rule (test/helpers/secondRule.ts), registered by the test alone, reaches every generic
// layer — diagnostics, code actions, fix-all, hover, check, fix, patch export and the explorer — with
// no change to any generic file. The server is built in-process with the rule list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from '../../server/src/cli/main';
import { RULES } from '../../server/src/rules/registry';
import { root } from '../helpers/kernelTree';
import { applyLspEdits, type LspEditAction } from '../helpers/lspClient';
import { startInProcess, type InProcess } from '../helpers/inProcessServer';
import { secondRule, TEST_RULE_ID } from '../helpers/secondRule';

const NVHE = 'arch/arm64/kvm/hyp/nvhe';
let tree: string;
let makefile: string;
let text: string;
const docsDir = join(root, 'server', 'out', 'rules');

type CodeAction = LspEditAction;

before(() => {
  tree = mkdtempSync(join(tmpdir(), 'kbd-rule2-'));
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
  makefile = join(tree, NVHE, 'Makefile');
  text = readFileSync(makefile, 'utf8');
});
after(() => rmSync(tree, { recursive: true, force: true }));

test('editor: diagnostics, quick-fix, fix-all and hover from both rules', async () => {
  const s: InProcess = await startInProcess(tree, { rules: [...RULES, secondRule], docsDir });
  try {
    const uri = s.open(makefile, text);
    await s.waitDiagnostics(
      uri,
      (ds) => ds.some((d) => d.code === TEST_RULE_ID) && ds.some((d) => d.code === 'nvhe-profile-metadata'),
    );
    const mine = s.diagnostics.get(uri)?.diagnostics.find((d) => d.code === TEST_RULE_ID);
    assert.match(mine?.message ?? '', /keeps \.comment sections\. The build's kvm_nvhe\.tmp\.o has one\./);
    const actions = await s.client.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: mine?.range,
      context: { diagnostics: [mine] },
    });
    const quick = actions.find((a) => a.title.startsWith('Accept .comment'));
    assert.ok(quick, actions.map((a) => a.title).join(' | '));
    const fixed = applyLspEdits(text, quick.edit.documentChanges[0].edits);
    assert.match(fixed, /TEST_KEEP_COMMENT := y\n$/);
    const all = await s.client.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: mine?.range,
      context: { diagnostics: [], only: ['source.fixAll'] },
    });
    assert.ok(
      all.some((a) => a.title === 'Accept .comment sections (TEST_KEEP_COMMENT := y) (fix all)'),
      all.map((a) => a.title).join(' | '),
    );
    void s.client.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: fixed + 'X := $(TEST_KEEP_COMMENT)\n' }],
    });
    await s.waitDiagnostics(uri, (ds) => !ds.some((d) => d.code === TEST_RULE_ID));
    const lines = (fixed + 'X := $(TEST_KEEP_COMMENT)\n').split('\n');
    const hover = await s.client.sendRequest<{ contents: { value: string } } | null>('textDocument/hover', {
      textDocument: { uri },
      position: { line: lines.length - 3, character: 2 },
    });
    assert.match(hover?.contents.value ?? '', /test rule:\*\* accepts \.comment sections/);
  } finally {
    s.close();
  }
});

test('explorer: stages, labels and marks come from the rule', async () => {
  const s = await startInProcess(tree, { rules: [secondRule], docsDir });
  try {
    const uri = s.open(makefile, text);
    await s.waitDiagnostics(uri, (ds) => ds.some((d) => d.code === TEST_RULE_ID));
    const buildUri = pathToFileURL(join(tree, 'build')).toString();
    let objects: { relativePath: string; stage: string; stageLabel: string; status: string; uri: string }[] = [];
    for (let i = 0; i < 20 && !objects.some((o) => o.stage === 'link-output'); i++) {
      try {
        objects = (await s.client.sendRequest<{ objects: typeof objects }>('kbuild/listObjects', { buildUri })).objects;
      } catch {
        await new Promise((r) => setTimeout(r, 100)); // the listing was invalidated by the analysis: ask again
      }
    }
    const out = objects.find((o) => o.stage === 'link-output');
    assert.equal(out?.relativePath, `${NVHE}/kvm_nvhe.tmp.o`);
    assert.equal(out?.stageLabel, 'output of a relocatable link');
    assert.equal(out?.status, 'offending');
    assert.ok(objects.filter((o) => o.stage === 'link-input').length >= 4, JSON.stringify(objects.map((o) => o.stage)));
    const sections = await s.client.sendRequest<{ sections: { name: string; offending?: string }[] }>(
      'kbuild/listSections',
      { objectUri: out?.uri },
    );
    assert.deepEqual(
      sections.sections.filter((x) => x.offending).map((x) => [x.name, x.offending]),
      [['.comment', 'test rule: a .comment section']],
    );
    const patch = await s.client.sendRequest<{ patch: string | null }>('kbuild/makePatch', {
      makefileUri: uri,
      rule: TEST_RULE_ID,
      fix: 'ack',
    });
    assert.match(patch.patch ?? '', /Subject: \[PATCH\] test: Accept \.comment sections in relocatable links/);
    assert.match(patch.patch ?? '', /^\+TEST_KEEP_COMMENT := y$/m);
  } finally {
    s.close();
  }
});

test('command line: check, fix and sections --json use the rule', async () => {
  const out: string[] = [];
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t) };
  const cwd = process.cwd();
  process.chdir(tree);
  try {
    assert.equal(await main(['check', '.'], io, { rules: [secondRule], docsDir }), 1);
    assert.match(
      out.join(''),
      /arch\/arm64\/kvm\/hyp\/nvhe\/Makefile:\d+:1: warning: The relocatable link of .* keeps \.comment sections\. .*\[test-link-comment\]/,
    );
    out.length = 0;
    assert.equal(await main(['sections', '--json', `build/${NVHE}/tlb.nvhe.o`], io, { rules: [secondRule] }), 0);
    const json = JSON.parse(out.join('')) as { sections: { name: string; offending?: string }[] }[];
    assert.deepEqual(
      json[0].sections.filter((x) => x.offending).map((x) => x.name),
      ['.comment'],
    );
    out.length = 0;
    assert.equal(
      await main(['fix', '--rule', TEST_RULE_ID, '--fix', 'ack', makefile], io, { rules: [...RULES, secondRule] }),
      0,
      out.join(''),
    );
    assert.match(readFileSync(makefile, 'utf8'), /\nTEST_KEEP_COMMENT := y\n$/);
    out.length = 0;
    assert.equal(await main(['check', '.'], io, { rules: [secondRule], docsDir }), 0, out.join(''));
  } finally {
    process.chdir(cwd);
  }
});
