// The orphan-sections rule where the tree's own Kbuild adds the flag: Linux 6.12 arm64 with 6.13's
// Propeller lines backported (scripts/prepare-propeller-tree.sh: scripts/Makefile.propeller, its
// include in the top Makefile, the _c_flags block, CONFIG_PROPELLER_CLANG=y, CONFIG_WERROR=y), no
// KCFLAGS. Each verdict is the real server's, from the Makefiles alone (the vDSO's objects removed, no
// .cmd file), and each is checked against a real build of arch/arm64/kernel/vdso/:
// - the block's default $(is-kernel-object) (as merged): the vDSO's objects are not kernel objects, the
//   flag never reaches them, the server says nothing and the build passes;
// - the default y (`use y`, the form vendor trees carry): the top Makefile includes Makefile.propeller
//   (CFLAGS_PROPELLER_CLANG := -fbasic-block-sections=labels), the block gives it to every object, the
//   vDSO's too. The server's errors hold one line per (object, section), and they are the failed build's
//   ld.lld lines, as a set; the block appends the flag after the remove lists, so the directory's remove
//   list (CC_FLAGS_REMOVE_VDSO) clears nothing: the server does not offer it, and a real build with it
//   fails with the same lines. Its preferred fix, the block's switch `PROPELLER_PROFILE := n` in the vDSO
//   Makefile, and its script fix (discard the section in vdso.lds.S), each applied as an editor applies
//   it (every file of the code action's edit), make the real build pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyCodeAction,
  LspClient,
  type LspEditAction,
  type LspDiagnostic,
} from '../../../../../../test/helpers/lspClient';
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

const RULE = 'orphan-sections';
const FLAG = '-fbasic-block-sections=labels';
const SECTION = '.llvm_bb_addr_map';
const missing = missingToolchain(['clang-19', 'ld.lld-19', 'llvm-readelf-19', 'make', 'bc', 'flex', 'bison'], ['6.12']);

const prepare = (form: 'mainline' | 'y'): string => preparedTree('prepare-propeller-tree.sh', ['use', form]);

/** The real server's diagnostics for the vDSO Makefile, once its analysis of version 1 is published. */
async function verdict(
  tree: string,
  makefile: string,
  text: string,
): Promise<{ lsp: LspClient; uri: string; ds: LspDiagnostic[] }> {
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  await lsp.initialize(tree, {}, { workspace: { didChangeWatchedFiles: { dynamicRegistration: false } } });
  const uri = lsp.open(makefile, text);
  const pub = await lsp.diagnostics(uri, (p) => p.version === 1, 180_000);
  return { lsp, uri, ds: pub.diagnostics };
}

/** Writes a file of the tree as a new file: the tree is a hard-linked copy, the extracted tree keeps its own. */
function writeOwn(file: string, text: string): void {
  rmSync(file, { force: true });
  writeFileSync(file, text);
}

/** The server's quick-fixes for a diagnostic. */
async function quickFixes(lsp: LspClient, uri: string, d: LspDiagnostic): Promise<LspEditAction[]> {
  return lsp.request<LspEditAction[]>('textDocument/codeAction', {
    textDocument: { uri },
    range: d.range,
    context: { diagnostics: [d], only: ['quickfix'] },
  });
}

/** The rule's ld.lld lines over all its diagnostics, sorted. */
function predictedLines(ds: LspDiagnostic[]): string[] {
  return ds
    .filter((d) => d.code === RULE)
    .flatMap((d) => predictedOrphanLines(d.message))
    .sort();
}

/** A fix's files written, the vDSO built anew: it passes, with no orphan line and no section in the vDSO. */
function assertFixPasses(tree: string, edited: Map<string, string>, what: string): void {
  for (const [file, text] of edited) writeOwn(file, text);
  cleanVdso(tree);
  const built = makeArm64(tree, [`${VDSO}/`]);
  assert.equal(built.status, 0, `${what}: the real build passes:\n${built.log.slice(-3000)}`);
  assert.deepEqual(lldOrphanLines(built.log, 'warning'), [], `${what}: ld.lld reports no orphan`);
  assert.deepEqual(lldOrphanLines(built.log, 'error'), []);
  assert.ok(!sectionNames(join(tree, VDSO, 'vdso.so.dbg')).includes(SECTION), `${what}: the vDSO has no ${SECTION}`);
}

/**
 * The server on the pristine Makefile (no objects, no .cmd): its errors, its quick-fixes, and what it says
 * with the remove list extended (not offered) and with its preferred fix applied.
 */
async function serverSide(
  tree: string,
  makefilePath: string,
  pristine: string,
): Promise<{ predicted: string[]; actions: LspEditAction[]; uri: string; withRemoveList: string }> {
  const { lsp, uri, ds } = await verdict(tree, makefilePath, pristine);
  let predicted: string[];
  let actions: LspEditAction[];
  // The directory's remove list extended with the flag (what the vDSO's own fix is with KCFLAGS).
  const withRemoveList = pristine.replace(
    /^(CC_FLAGS_ADD_VDSO :=)/m,
    `CC_FLAGS_REMOVE_VDSO += -fbasic-block-sections=%\n\n$1`,
  );
  assert.notEqual(withRemoveList, pristine);
  try {
    const mine = ds.filter((d) => d.code === RULE);
    assert.ok(mine.length > 0, `the server predicts orphans from the Makefiles alone: ${JSON.stringify(ds)}`);
    for (const d of mine) assert.equal(d.severity, 1, `an error (CONFIG_WERROR=y): ${d.message}`);
    predicted = predictedLines(mine);
    assert.equal(new Set(predicted).size, predicted.length, `one line per (object, section): ${predicted}`);
    assert.ok(
      mine.every((d) => d.message.includes(`${FLAG} makes it`)),
      'the flag is named as Kbuild passes it',
    );
    actions = await quickFixes(lsp, uri, mine[0]);
    const titles = actions.map((a) => a.title).join('; ');
    // The remove list is not offered: the block adds the flag after the remove lists.
    for (const a of actions)
      for (const c of a.edit.documentChanges)
        for (const e of c.edits)
          assert.ok(!/CC_FLAGS_REMOVE_VDSO|CFLAGS_REMOVE_/.test(e.newText), `${a.title}: ${e.newText}`);
    lsp.change(uri, 2, withRemoveList);
    const still = await lsp.diagnostics(uri, (p) => p.version === 2, 180_000);
    assert.deepEqual(predictedLines(still.diagnostics), predicted, 'with the remove list: the same lines');
    const preferred = actions.filter((a) => a.isPreferred);
    assert.equal(preferred.length, 1, titles);
    const fixed = applyCodeAction(preferred[0], uri, pristine);
    assert.deepEqual([...fixed.keys()], [makefilePath], titles);
    assert.match(fixed.get(makefilePath) ?? '', /^PROPELLER_PROFILE := n$/m, "the block's own switch");
    lsp.change(uri, 3, fixed.get(makefilePath) ?? '');
    const after = await lsp.diagnostics(uri, (p) => p.version === 3, 180_000);
    assert.deepEqual(predictedLines(after.diagnostics), [], 'the switch set: nothing predicted');
  } finally {
    await lsp.stop();
  }
  return { predicted, actions, uri, withRemoveList };
}

/** The real builds: without a fix (ld.lld's lines), with the remove list, with each offered fix. */
function realBuilds(
  tree: string,
  paths: { makefile: string; lds: string },
  texts: { makefile: string; lds: string; withRemoveList: string },
  server: { predicted: string[]; actions: LspEditAction[]; uri: string },
): void {
  const { makefile: makefilePath, lds: ldsPath } = paths;
  const { makefile: pristine, lds: ldsPristine, withRemoveList } = texts;
  const { predicted, actions, uri } = server;
  // The real build, from the same state (no objects, no .cmd).
  cleanVdso(tree);
  const failed = makeArm64(tree, [`${VDSO}/`]);
  assert.notEqual(failed.status, 0, 'the build fails');
  const real = lldOrphanLines(failed.log, 'error');
  assert.ok(real.length > 0, failed.log.slice(-3000));
  assert.deepEqual(predicted, real, "the server's lines are ld.lld's");
  const cmd = readFileSync(join(tree, VDSO, '.vgettimeofday.o.cmd'), 'utf8');
  assert.ok(cmd.includes(FLAG), "the tree's own Kbuild passed the flag (no KCFLAGS)");
  console.log(`# default y: ${real.length} ld.lld lines, ${predicted.length} predicted from the Makefiles`);

  try {
    // The remove list (not offered): the real build fails the same way.
    writeOwn(makefilePath, withRemoveList);
    cleanVdso(tree);
    const removed = makeArm64(tree, [`${VDSO}/`]);
    assert.notEqual(removed.status, 0, 'the remove list does not clear it');
    assert.deepEqual(lldOrphanLines(removed.log, 'error'), real);
    writeOwn(makefilePath, pristine);

    // The preferred fix: the switch.
    const preferred = actions.filter((a) => a.isPreferred)[0];
    assertFixPasses(tree, applyCodeAction(preferred, uri, pristine), preferred.title);
    const fixedCmd = readFileSync(join(tree, VDSO, '.vgettimeofday.o.cmd'), 'utf8');
    assert.ok(!fixedCmd.includes('-fbasic-block-sections'), 'the switch keeps the flag off the vDSO');
    writeOwn(makefilePath, pristine);

    // The script fix: discard the section in vdso.lds.S (the objects keep it).
    const script = actions.filter((a) => a.title === `Discard ${SECTION} in vdso.lds.S`);
    assert.equal(script.length, 1, actions.map((a) => a.title).join('; '));
    assert.equal(script[0].isPreferred, false);
    const edited = applyCodeAction(script[0], uri, pristine);
    assert.deepEqual([...edited.keys()], [ldsPath], 'the script fix edits vdso.lds.S only');
    assertFixPasses(tree, edited, script[0].title);
    assert.ok(sectionNames(join(tree, VDSO, 'vgettimeofday.o')).includes(SECTION), 'the object still has it');
  } finally {
    writeOwn(makefilePath, pristine);
    writeOwn(ldsPath, ldsPristine);
  }
}

test(
  "real Linux 6.12 arm64 vDSO with 6.13 Propeller backported: the flag from the tree's own Kbuild, judged from the Makefiles",
  { skip: missing ?? false, timeout: 60 * 60_000 },
  async (t) => {
    const tree = prepare('mainline');
    const makefilePath = join(tree, VDSO, 'Makefile');
    const ldsPath = join(tree, VDSO, 'vdso.lds.S');
    const pristine = readFileSync(makefilePath, 'utf8');
    const ldsPristine = readFileSync(ldsPath, 'utf8');
    try {
      await t.test(
        'default $(is-kernel-object): the flag does not reach the vDSO; nothing said, the build passes',
        async () => {
          cleanVdso(tree);
          const { lsp, ds } = await verdict(tree, makefilePath, pristine);
          try {
            assert.deepEqual(
              ds.filter((d) => d.code === RULE),
              [],
              'the vDSO objects are not kernel objects: Kbuild does not give them the flag',
            );
          } finally {
            await lsp.stop();
          }
          const built = makeArm64(tree, [`${VDSO}/`]);
          assert.equal(built.status, 0, built.log.slice(-3000));
          assert.deepEqual(lldOrphanLines(built.log, 'warning'), []);
          const cmd = readFileSync(join(tree, VDSO, '.vgettimeofday.o.cmd'), 'utf8');
          assert.ok(!cmd.includes('-fbasic-block-sections'), 'the real compile had no Propeller flag');
        },
      );
      await t.test(
        "default y (vendor trees' form): the server's errors are ld.lld's lines; the switch and the script fix make the build pass",
        async () => {
          prepare('y');
          cleanVdso(tree);
          const server = await serverSide(tree, makefilePath, pristine);
          realBuilds(
            tree,
            { makefile: makefilePath, lds: ldsPath },
            { makefile: pristine, lds: ldsPristine, withRemoveList: server.withRemoveList },
            server,
          );
        },
      );
    } finally {
      writeOwn(makefilePath, pristine);
      writeOwn(ldsPath, ldsPristine);
      prepare('mainline');
    }
  },
);
