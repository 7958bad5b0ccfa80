// The product against real builds of the variant Linux 6.1 trees (scripts/kernel-variants.sh,
// docs/real-builds.md): the Android split (pipeline in nvhe/Makefile.nvhe, gen-hyprel run as $(HYPREL)),
// Linux 6.13's Kbuild AutoFDO backported with the default `y` (the profile reaches the hyp compiles
// through _c_flags, past the KBUILD_CFLAGS filter) and in the mainline form (it does not). For each:
// the real server over LSP judges the tree before the build (warning) and after the failing build
// (error); each quick-fix it offers, applied to the file as an editor would, makes the real build
// pass; the fixes it does not offer are the ones that would not clear the flow.
// Seven builds of arch/arm64/kvm/hyp/nvhe/, one at a time (1-3 minutes each on 2 cores).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  applyLspEdits,
  LspClient,
  type LspDiagnostic,
  type LspTextEdit,
  type PublishedDiagnostics,
  type LspEditAction,
} from '../../../../../../test/helpers/lspClient';
import {
  buildVariant,
  GEN_HYPREL_ERROR,
  NVHE,
  pipelineFile,
  prepareVariant,
  variantsMissing,
  type Variant,
  type VariantBuild,
} from '../../../../../../test/helpers/kernelVariants';
import { FIXES } from '../../fixes';

const RULE = 'nvhe-profile-metadata';
const ALIAS = 'nvhe-profile-alias';
const SOURCE = 'kbuild-diagnostics';

type CodeAction = LspEditAction;

const ruleDiag = (p: PublishedDiagnostics) => p.diagnostics.find((d) => d.code === RULE);
const serious = (p: PublishedDiagnostics) =>
  p.diagnostics.filter((d) => d.source === SOURCE && d.severity !== undefined && d.severity <= 2);

function build(t: TestContext, variant: Variant, label: string): VariantBuild {
  const b = buildVariant(variant);
  t.diagnostic(`build ${variant} (${label}): status ${b.status}, ${b.seconds} s`);
  return b;
}

/** Runs `fn` with a fresh server on the tree (no file watcher: every analysis reads the build again). */
async function withServer<T>(tree: string, fn: (lsp: LspClient) => Promise<T>): Promise<T> {
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  try {
    await lsp.initialize(tree, {}, { workspace: { didChangeWatchedFiles: { dynamicRegistration: false } } });
    return await fn(lsp);
  } finally {
    await lsp.stop();
  }
}

/** The diagnostics the server publishes for `file` once it is open with `text` (version 1). */
function openAndWait(
  lsp: LspClient,
  file: string,
  text: string,
  match: (p: PublishedDiagnostics) => boolean = () => true,
): Promise<PublishedDiagnostics> {
  const uri = lsp.open(file, text);
  return lsp.diagnostics(uri, (p) => p.version === 1 && match(p), 120_000);
}

/** The form (A, B, C) of each quick-fix the server offers at `d`, with its edits. */
async function quickFixes(lsp: LspClient, file: string, d: LspDiagnostic): Promise<Map<string, LspTextEdit[]>> {
  const uri = pathToFileURL(file).toString();
  const actions = await lsp.request<CodeAction[]>(
    'textDocument/codeAction',
    { textDocument: { uri }, range: d.range, context: { diagnostics: [d], only: ['quickfix'] } },
    120_000,
  );
  const out = new Map<string, LspTextEdit[]>();
  for (const a of actions) {
    const def = FIXES.find((f) => f.title === a.title);
    assert.ok(def, `a quick-fix of the rule: ${a.title}`);
    const change = a.edit.documentChanges[0];
    assert.equal(change.textDocument.version, 1, 'the edit names the document version');
    out.set(def.id, change.edits);
  }
  return out;
}

function hasCallGraphSection(file: string): boolean {
  return execFileSync('llvm-readelf-19', ['-S', file], { encoding: 'utf8' }).includes('call-graph-profile');
}

/**
 * Before the build: a warning on `pipeline`; the build fails in gen-hyprel; after it, an error naming
 * the object; the quick-fixes offered are `offered` (exactly); each, applied, makes the build pass and
 * leaves no warning or error.
 */
async function failingVariant(t: TestContext, variant: Variant, offered: string[], quietFile?: string): Promise<void> {
  const tree = prepareVariant(variant);
  const pipeline = pipelineFile(variant);
  const original = readFileSync(pipeline, 'utf8');
  try {
    // 1. Before any build of the directory: the Makefile alone (and the tree's Kbuild) gives a warning.
    await withServer(tree, async (lsp) => {
      const pub = await openAndWait(lsp, pipeline, original, (p) => !!ruleDiag(p));
      const d = ruleDiag(pub);
      assert.ok(d);
      assert.equal(d.severity, 2, `a warning before the build: ${d.message}`);
      if (quietFile) {
        // The includer holds no pipeline of its own: nothing of the rule lands there.
        const other = await openAndWait(lsp, quietFile, readFileSync(quietFile, 'utf8'));
        assert.deepEqual(
          other.diagnostics.filter((x) => x.code === RULE || x.code === ALIAS),
          [],
          `nothing on ${quietFile}`,
        );
      }
    });

    // 2. The real build fails in gen-hyprel, as in the report.
    const failed = build(t, variant, 'as prepared');
    assert.notEqual(failed.status, 0, 'the build fails');
    assert.ok(failed.log.includes(GEN_HYPREL_ERROR), `gen-hyprel's error:\n${failed.log.slice(-2000)}`);

    // 3. With the build's objects: an error naming the object; the fixes offered.
    let errorMessage = '';
    const fixes = await withServer(tree, async (lsp) => {
      const pub = await openAndWait(lsp, pipeline, original, (p) => ruleDiag(p)?.severity === 1);
      const d = ruleDiag(pub);
      assert.ok(d);
      assert.ok(d.message.includes('kvm_nvhe.tmp.o'), `names the object: ${d.message}`);
      assert.ok(d.message.includes(GEN_HYPREL_ERROR), `says what gen-hyprel prints: ${d.message}`);
      errorMessage = d.message;
      const found = await quickFixes(lsp, pipeline, d);
      t.diagnostic(`${variant}: quick-fixes offered: ${[...found.keys()].join(', ')}`);
      return found;
    });
    assert.deepEqual([...fixes.keys()].sort(), offered, `quick-fixes offered on ${variant}`);
    // The advice in the message names the forms that are offered.
    for (const form of offered)
      assert.match(errorMessage, new RegExp(`\\(form ${form}\\)`), `the error names form ${form}: ${errorMessage}`);

    // 4. Each offered fix, written into the file as an editor applies it: the real build passes.
    for (const [form, edits] of fixes) {
      const fixed = applyLspEdits(original, edits);
      writeFileSync(pipeline, fixed);
      const after = build(t, variant, `form ${form}`);
      assert.equal(after.status, 0, `the build passes after form ${form}:\n${after.log.slice(-2000)}`);
      assert.ok(!hasCallGraphSection(join(tree, NVHE, 'kvm_nvhe.o')), 'kvm_nvhe.o has no call-graph section');
      await withServer(tree, async (lsp) => {
        const pub = await openAndWait(lsp, pipeline, fixed);
        assert.deepEqual(
          serious(pub).map((d) => `${String(d.code)}: ${d.message}`),
          [],
          `no warning or error after form ${form}`,
        );
      });
      writeFileSync(pipeline, original);
    }
  } finally {
    writeFileSync(pipeline, original);
  }
}

const missing = variantsMissing();

test('real builds of the variant 6.1 trees: verdicts, quick-fixes, rebuilds', { timeout: 40 * 60_000 }, async (t) => {
  // CI installs the toolchain and linux-source-6.1: a machine without them must not pass quietly.
  if (missing) assert.fail(`the variant builds need the kernel toolchain: ${missing}`);

  await t.test(
    'android-split: Makefile.nvhe is judged with its includer; forms A and B fix the real build, C is not offered',
    async (st) => {
      const tree = prepareVariant('android-split');
      await failingVariant(st, 'android-split', ['A', 'B'], join(tree, NVHE, 'Makefile'));
    },
  );

  await t.test(
    "autofdo-y: Kbuild's own AutoFDO flags; forms B and C fix the real build, A is not offered",
    async (st) => {
      await failingVariant(st, 'autofdo-y', ['B', 'C']);
    },
  );

  await t.test('autofdo-mainline: the real build passes; no warning or error', async (st) => {
    const tree = prepareVariant('autofdo-mainline');
    const makefile = pipelineFile('autofdo-mainline');
    const b = build(st, 'autofdo-mainline', 'as prepared');
    assert.equal(b.status, 0, `the build passes:\n${b.log.slice(-2000)}`);
    assert.ok(!hasCallGraphSection(join(tree, NVHE, 'kvm_nvhe.tmp.o')), 'kvm_nvhe.tmp.o has no call-graph section');
    await withServer(tree, async (lsp) => {
      const pub = await openAndWait(lsp, makefile, readFileSync(makefile, 'utf8'));
      assert.deepEqual(
        serious(pub).map((d) => `${String(d.code)}: ${d.message}`),
        [],
        'no warning or error',
      );
      assert.equal(ruleDiag(pub), undefined);
      // Linux 6.1's own filter (form A, upstream v3) names two spellings: the KCFLAGS aliases get a hint.
      const hint = pub.diagnostics.find((d) => d.code === ALIAS);
      st.diagnostic(`autofdo-mainline: ${hint ? `hint: ${hint.message}` : 'no hint'}`);
      if (hint) {
        assert.equal(hint.severity, 4);
        assert.ok(!/-fprofile-sample-use=|-fprofile-use=/.test(hint.message), `only aliases: ${hint.message}`);
      }
    });
  });
});
