// The orphan-sections rule against real builds of Debian's linux-source-6.12 arm64 vDSO with
// clang/lld 19 (scripts/prepare-vdso-tree.sh: defconfig + CONFIG_WERROR=y, cached under $KBD_CACHE).
// With KCFLAGS=-fbasic-block-sections=labels the link fails with ld.lld's orphan errors; the real
// server, from the compiled objects alone (the link wrote nothing), reports exactly those lines; each of
// its two quick-fixes, applied as an editor applies it (every file of the code action's edit), makes the
// real build pass: discarding the section in vdso.lds.S (llvm-readelf-19: the objects still hold it, the
// vDSO does not) and removing the flag (the preferred one for the vDSO, upstream's choice); with
// CONFIG_WERROR=n the build passes with ld.lld's warnings and the server says warning; without the flag:
// nothing.
// `sections --json` (the real command-line process) on the failed build's objects marks the same
// sections, each with the link that refuses it and its level.
// The section explorer on the same builds: the orphans marked with the link that refuses them and
// ld.lld's own lines, each section's destination in the vdso.so.dbg link equal to what
// `ld.lld-19 -Map` does with the build's recorded link, and the stages objects -> vdso.so.dbg -> vdso.so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyCodeAction,
  applyLspEdits,
  LspClient,
  type LspEditAction as CodeAction,
  type LspDiagnostic,
} from '../../../../../../test/helpers/lspClient';
import { root } from '../../../../../../test/helpers/kernelTree';
import {
  cleanVdso,
  lldOrphanLines,
  makeArm64,
  missingToolchain,
  predictedOrphanLines,
  preparedTree,
  sectionNames,
  VDSO,
} from '../../../../../../test/helpers/kernelBuild';
import {
  destinationsIn,
  linkArgsOfCmd,
  oraclePlacements,
  placementDifferences,
} from '../../../../../../test/helpers/linkOracle';
import { readCmdFile } from '../../../../kbuild/cmdFile';
import type { ObjectInfo, SectionInfo } from '../../../../lspExt';

const RULE = 'orphan-sections';
const FLAG = '-fbasic-block-sections=labels';
const missing = missingToolchain(['clang-19', 'ld.lld-19', 'llvm-readelf-19', 'make', 'bc', 'flex', 'bison'], ['6.12']);

function configure(tree: string, werror: boolean): void {
  copyFileSync(join(tree, '.config.pristine'), join(tree, '.config'));
  if (!werror) execFileSync(join(tree, 'scripts', 'config'), ['--file', join(tree, '.config'), '--disable', 'WERROR']);
  const r = makeArm64(tree, ['olddefconfig']);
  assert.equal(r.status, 0, r.log);
}

const LINK = `${VDSO}/vdso.so.dbg`;
const fileUri = (p: string): string => `file://${p}`;

async function explorerObjects(lsp: LspClient, tree: string): Promise<ObjectInfo[]> {
  const r = await lsp.request<{ objects: ObjectInfo[] }>('kbuild/listObjects', { buildUri: fileUri(tree) });
  return r.objects.filter((o) => o.relativePath.startsWith(`${VDSO}/`));
}

async function explorerSections(lsp: LspClient, tree: string, object: string): Promise<SectionInfo[]> {
  const r = await lsp.request<{ sections: SectionInfo[]; total: number }>('kbuild/listSections', {
    objectUri: fileUri(join(tree, object)),
    limit: 10_000,
  });
  assert.equal(r.sections.length, r.total);
  return r.sections;
}

async function serverVerdict(
  tree: string,
  makefile: string,
  text: string,
  until: (d: LspDiagnostic[]) => boolean,
): Promise<{ lsp: LspClient; uri: string; diagnostics: LspDiagnostic[] }> {
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  await lsp.initialize(tree, {}, { workspace: { didChangeWatchedFiles: { dynamicRegistration: false } } });
  const uri = lsp.open(makefile, text);
  const pub = await lsp.diagnostics(uri, (p) => until(p.diagnostics), 120_000);
  return { lsp, uri, diagnostics: pub.diagnostics };
}

/** The explorer marks the failed link's orphans, with the link that refuses them and ld.lld's lines. */
async function assertExplorerMarksOrphans(lsp: LspClient, tree: string, real: string[]): Promise<void> {
  const objects = await explorerObjects(lsp, tree);
  const marked = objects.filter((o) => o.status === 'offending');
  assert.deepEqual(marked.map((o) => o.relativePath).sort(), [`${VDSO}/vgetrandom.o`, `${VDSO}/vgettimeofday.o`]);
  const problems = marked
    .flatMap((o) => (o.objectProblem ?? '').split('\n'))
    .map((l) => l.replace(/^ld\.lld: error: /, ''));
  assert.deepEqual(problems.sort(), real, "each object carries ld.lld's own error lines");
  for (const o of objects) if (o.stage === 'orphan-link-input') assert.deepEqual(o.linkedInto, [LINK]);
  const secs = await explorerSections(lsp, tree, `${VDSO}/vgettimeofday.o`);
  const bb = secs.filter((x) => x.offending);
  assert.deepEqual(
    bb.map((x) => x.name),
    ['.llvm_bb_addr_map'],
  );
  assert.match(bb[0].offending ?? '', /vdso\.so\.dbg refuses it \(--orphan-handling=error\)/);
  assert.deepEqual(
    bb[0].destinations?.map((x) => `${x.link}:${x.kind}:${x.output}`),
    [`${LINK}:orphan:.llvm_bb_addr_map`],
  );
  // The command line's `sections --json` marks the same sections, through the same layers.
  const cli = spawnSync(
    process.execPath,
    [join(root, 'server', 'out', 'cli.js'), 'sections', '--json', ...marked.map((o) => o.relativePath)],
    { cwd: tree, encoding: 'utf8' },
  );
  assert.equal(cli.status, 0, cli.stderr);
  const listed = JSON.parse(cli.stdout) as {
    links?: { output: string; orphanHandling?: string }[];
    sections: { index: number; name: string; offending?: string }[];
  }[];
  const cliLines = listed.flatMap((f) => {
    assert.deepEqual(
      f.links?.map((l) => `${l.output}:${l.orphanHandling}`),
      [`${LINK}:error`],
    );
    return f.sections.flatMap((x) => (x.offending ? [/ld\.lld: error: (.*)$/.exec(x.offending)?.[1]] : []));
  });
  assert.deepEqual(cliLines.sort(), real, "sections --json: one mark per ld.lld line, with ld.lld's text");
}

/**
 * The script fix (discard the section in vdso.lds.S): its patch applies to the tree, and its edit, applied
 * as an editor applies it, makes the real build pass with the section still in the objects, not in the vDSO.
 */
async function assertScriptFixPasses(
  lsp: LspClient,
  uri: string,
  tree: string,
  pristine: string,
  script: CodeAction,
): Promise<void> {
  const ldsPath = join(tree, VDSO, 'vdso.lds.S');
  const ldsPristine = readFileSync(join(tree, VDSO, 'vdso.lds.S.pristine'), 'utf8');
  const scriptPatch = await lsp.request<{ patch: string | null }>('kbuild/makePatch', {
    makefileUri: uri,
    fix: 'script-section',
  });
  assert.ok(scriptPatch.patch?.includes(`diff --git a/${VDSO}/vdso.lds.S b/${VDSO}/vdso.lds.S`));
  assert.ok(scriptPatch.patch?.includes('+\t\t*(.llvm_bb_addr_map)'), scriptPatch.patch ?? '');
  const check = spawnSync('git', ['apply', '--check', '-p1', '-'], {
    cwd: tree,
    input: scriptPatch.patch ?? '',
    encoding: 'utf8',
  });
  assert.equal(check.status, 0, `the patch applies to the tree: ${check.stderr}`);
  const edited = applyCodeAction(script, uri, pristine);
  assert.deepEqual([...edited.keys()], [ldsPath], 'the script fix edits vdso.lds.S, not the Makefile');
  try {
    for (const [file, text] of edited) writeFileSync(file, text);
    const discarded = makeArm64(tree, [`KCFLAGS=${FLAG}`, `${VDSO}/`]);
    assert.equal(discarded.status, 0, `the build passes with the section discarded:\n${discarded.log.slice(-3000)}`);
    assert.deepEqual(lldOrphanLines(discarded.log, 'warning'), [], 'and ld.lld reports no orphan');
    assert.ok(
      sectionNames(join(tree, VDSO, 'vgettimeofday.o')).includes('.llvm_bb_addr_map'),
      'the object still has it',
    );
    assert.ok(!sectionNames(join(tree, VDSO, 'vdso.so.dbg')).includes('.llvm_bb_addr_map'), 'the vDSO has it no more');
  } finally {
    writeFileSync(ldsPath, ldsPristine);
  }
}

/** The flag fix (the preferred one) makes the real build pass, and the server then says nothing. */
async function assertFlagFixPasses(
  lsp: LspClient,
  uri: string,
  tree: string,
  pristine: string,
  flagFix: CodeAction,
): Promise<void> {
  const makefilePath = join(tree, VDSO, 'Makefile');
  const fixed = applyLspEdits(pristine, flagFix.edit.documentChanges[0].edits);
  assert.match(
    fixed,
    /^CC_FLAGS_REMOVE_VDSO \+= -fbasic-block-sections=%$/m,
    "extends the directory's own remove list",
  );
  writeFileSync(makefilePath, fixed);
  const passed = makeArm64(tree, [`KCFLAGS=${FLAG}`, `${VDSO}/`]);
  assert.equal(passed.status, 0, `the real build passes after the fix:\n${passed.log.slice(-3000)}`);
  assert.ok(
    !execFileSync('llvm-readelf-19', ['-S', join(tree, VDSO, 'vdso.so')], { encoding: 'utf8' }).includes(
      'llvm_bb_addr_map',
    ),
  );
  lsp.notify('workspace/didChangeWatchedFiles', {
    changes: [{ uri: `file://${join(tree, VDSO, 'vgettimeofday.o')}`, type: 2 }],
  });
  lsp.change(uri, 2, fixed);
  const after = await lsp.diagnostics(uri, (p) => p.version === 2, 120_000);
  assert.deepEqual(
    after.diagnostics.filter((x) => x.code === RULE || x.code === 'orphan-sections-stale'),
    [],
    'nothing left after the rebuild',
  );
}

/** CONFIG_WERROR=y: the link fails; the server said so, line for line; each fix makes it pass. */
async function errorLevel(tree: string, makefilePath: string, pristine: string): Promise<void> {
  cleanVdso(tree);
  const failed = makeArm64(tree, [`KCFLAGS=${FLAG}`, `${VDSO}/`]);
  assert.notEqual(failed.status, 0, 'the build fails');
  const real = lldOrphanLines(failed.log, 'error');
  assert.deepEqual(real, [
    `${VDSO}/vgetrandom.o:(.llvm_bb_addr_map) is being placed in '.llvm_bb_addr_map'`,
    `${VDSO}/vgettimeofday.o:(.llvm_bb_addr_map) is being placed in '.llvm_bb_addr_map'`,
  ]);
  assert.ok(!existsSync(join(tree, VDSO, 'vdso.so.dbg')), 'the link wrote nothing: the verdict comes from the objects');
  const { lsp, uri, diagnostics } = await serverVerdict(tree, makefilePath, pristine, (ds) =>
    ds.some((d) => d.code === RULE),
  );
  try {
    const d = diagnostics.find((x) => x.code === RULE);
    assert.ok(d);
    assert.equal(d.severity, 1, 'an error: the link passes --orphan-handling=error');
    assert.deepEqual(predictedOrphanLines(d.message), real, `the server predicts ld.lld's lines exactly: ${d.message}`);
    await assertExplorerMarksOrphans(lsp, tree, real);
    const actions = await lsp.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: d.range,
      context: { diagnostics: [d], only: ['quickfix'] },
    });
    const mine = actions.filter((a) => /section-making flag/.test(a.title));
    assert.equal(mine.length, 1);
    assert.equal(mine[0].isPreferred, true, 'removing the flag is the preferred fix for the vDSO');
    const script = actions.filter((a) => a.title === 'Discard .llvm_bb_addr_map in vdso.lds.S');
    assert.equal(script.length, 1, `the script fix is offered: ${actions.map((a) => a.title).join('; ')}`);
    assert.equal(script[0].isPreferred, false, 'the vDSO links no kernel objects: the flag fix is preferred');
    await assertScriptFixPasses(lsp, uri, tree, pristine, script[0]);
    await assertFlagFixPasses(lsp, uri, tree, pristine, mine[0]);
  } finally {
    await lsp.stop();
    writeFileSync(makefilePath, pristine);
  }
}

/**
 * CONFIG_WERROR=n: the build passes with ld.lld warnings; the server says warning. The explorer: stages
 * objects -> vdso.so.dbg -> vdso.so, orphans warned (not offending), and every section's destination in
 * the vdso.so.dbg link as ld.lld-19 -Map places it.
 */
async function warningLevel(tree: string, makefilePath: string, pristine: string): Promise<void> {
  configure(tree, false);
  cleanVdso(tree);
  const built = makeArm64(tree, [`KCFLAGS=${FLAG}`, `${VDSO}/`]);
  assert.equal(built.status, 0, built.log.slice(-3000));
  const real = lldOrphanLines(built.log, 'warning');
  assert.equal(real.length, 2, built.log.slice(-3000));
  const { lsp, diagnostics } = await serverVerdict(tree, makefilePath, pristine, (ds) =>
    ds.some((d) => d.code === RULE),
  );
  try {
    const d = diagnostics.find((x) => x.code === RULE);
    assert.ok(d);
    assert.equal(d.severity, 2, 'a warning, not an error');
    assert.deepEqual(predictedOrphanLines(d.message), real);
    const objects = await explorerObjects(lsp, tree);
    const stageOf = (p: string) => objects.find((o) => o.relativePath === p);
    assert.equal(stageOf(`${VDSO}/vgettimeofday.o`)?.nextStage, 'orphan-link-output');
    assert.equal(stageOf(LINK)?.stage, 'orphan-link-output');
    assert.equal(stageOf(LINK)?.nextStage, 'orphan-link-copy');
    assert.equal(stageOf(`${VDSO}/vdso.so`)?.stage, 'orphan-link-copy');
    assert.ok(
      objects.every((o) => o.status !== 'offending'),
      'a warning level breaks nothing',
    );
    const cmd = readCmdFile(readFileSync(join(tree, VDSO, '.vdso.so.dbg.cmd'), 'utf8'));
    assert.ok(cmd.ok);
    const args = linkArgsOfCmd(cmd.records[0].commands[0].words.map((w) => w.text)).filter(
      (w) => !w.startsWith('--orphan-handling'),
    );
    const oracle = oraclePlacements(tree, args, args.indexOf('-T') + 1);
    const inputs = args.filter((w) => w.endsWith('.o'));
    assert.ok(inputs.length >= 4, args.join(' '));
    let compared = 0;
    for (const object of inputs) {
      const secs = await explorerSections(lsp, tree, object);
      const mine = destinationsIn(object, secs, LINK);
      assert.deepEqual(placementDifferences(oracle, object, mine), [], `${object}: the explorer and ld.lld differ`);
      compared += mine.size;
      for (const s of secs.filter((x) => x.name === '.llvm_bb_addr_map')) {
        assert.equal(s.offending, undefined);
        assert.match(s.warning ?? '', /--orphan-handling=warn/);
      }
    }
    console.log(
      `# explorer: ${compared} input sections of ${inputs.length} objects placed as ld.lld-19 -Map places them`,
    );
  } finally {
    await lsp.stop();
  }
}

test(
  'real Linux 6.12 arm64 vDSO: orphan sections predicted from the objects, the fix proved by the build',
  { skip: missing ?? false, timeout: 60 * 60_000 },
  async (t) => {
    const tree = preparedTree('prepare-vdso-tree.sh');
    const makefilePath = join(tree, VDSO, 'Makefile');
    const pristine = readFileSync(join(tree, VDSO, 'Makefile.pristine'), 'utf8');
    writeFileSync(makefilePath, pristine);
    writeFileSync(join(tree, VDSO, 'vdso.lds.S'), readFileSync(join(tree, VDSO, 'vdso.lds.S.pristine')));
    configure(tree, true);
    try {
      await t.test('CONFIG_WERROR=y: the link fails; the server said so, line for line; the fix makes it pass', () =>
        errorLevel(tree, makefilePath, pristine),
      );
      await t.test('CONFIG_WERROR=n: the build passes with ld.lld warnings; the server says warning', () =>
        warningLevel(tree, makefilePath, pristine),
      );
      await t.test('a clean build with no such flag: nothing', async () => {
        configure(tree, true);
        cleanVdso(tree);
        const built = makeArm64(tree, [`${VDSO}/`]);
        assert.equal(built.status, 0, built.log.slice(-3000));
        const check = spawnSync(process.execPath, [join(root, 'server', 'out', 'cli.js'), 'check', makefilePath], {
          encoding: 'utf8',
        });
        assert.equal(check.status, 0, `check finds nothing: ${check.stdout}${check.stderr}`);
        assert.equal(check.stdout.trim(), '');
      });
    } finally {
      writeFileSync(makefilePath, pristine);
    }
  },
);
