// The build task on a real Linux 6.12 arm64 tree (scripts/prepare-vdso-tree.sh: defconfig +
// CONFIG_WERROR=y, in-tree, clang/lld 19): after the user's failing build
// (`make ARCH=arm64 LLVM=-19 KCFLAGS=-fbasic-block-sections=labels arch/arm64/kernel/vdso/`), the
// real server computes, from the build's configuration and .cmd files alone, the same command; run
// as VS Code's task system would run it (the test runs it; the server never does), it fails with
// the same ld.lld lines. After the orphan fix, the stale-evidence diagnostic's "rebuild to confirm"
// action names the task, which still passes the flag (now recorded only by kernel/bounds.s) and
// builds: the link passes, and the evidence refreshes to nothing once the build wrote its objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildTask } from '../../server/src/lspExt';
import { applyLspEdits, LspClient, type LspDiagnostic, type LspCodeAction } from '../helpers/lspClient';
import { cleanVdso, lldOrphanLines, missingToolchain, preparedTree, runBuild, VDSO } from '../helpers/kernelBuild';

const FLAG = '-fbasic-block-sections=labels';
const RULE = 'orphan-sections';
const STALE = 'orphan-sections-stale';

const missing = missingToolchain(['clang-19', 'ld.lld-19', 'make', 'bc', 'flex', 'bison'], ['6.12']);

type CodeAction = LspCodeAction;

const lldErrors = (log: string): string[] => lldOrphanLines(log, 'error');

test(
  'real Linux 6.12: the build task is the build the tree records, and rebuilding confirms the fix',
  {
    skip: missing ?? false,
    timeout: 60 * 60_000,
  },
  async () => {
    const tree = preparedTree('prepare-vdso-tree.sh');
    const makefile = join(tree, VDSO, 'Makefile');
    const pristine = readFileSync(join(tree, VDSO, 'Makefile.pristine'), 'utf8');
    writeFileSync(makefile, pristine);
    copyFileSync(join(tree, '.config.pristine'), join(tree, '.config'));
    cleanVdso(tree);
    const user = runBuild(tree, 'make', ['ARCH=arm64', 'LLVM=-19', `KCFLAGS=${FLAG}`, `${VDSO}/`]);
    assert.notEqual(user.status, 0, "the user's build fails");
    assert.equal(lldErrors(user.log).length, 2, user.log.slice(-3000));

    const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
    try {
      await lsp.initialize(tree, {}, { workspace: { didChangeWatchedFiles: { dynamicRegistration: false } } });
      const uri = lsp.open(makefile, pristine);
      const pub = await lsp.diagnostics(uri, (p) => p.diagnostics.some((d) => d.code === RULE), 120_000);
      const { task } = await lsp.send(buildTask, { makefileUri: uri });
      assert.ok(task);
      assert.equal(task.cwd, tree);
      // ARCH: the .config heading; LLVM=-19: CONFIG_CC_IS_CLANG/LD_IS_LLD and clang-19 in the .cmd files;
      // KCFLAGS: the flag the orphans come from, as the objects' .cmd files record it.
      assert.deepEqual(task.args, ['ARCH=arm64', 'LLVM=-19', `KCFLAGS=${FLAG}`, `${VDSO}/`]);
      cleanVdso(tree);
      const again = runBuild(task.cwd, task.command, task.args);
      assert.notEqual(again.status, 0, 'the task reproduces the failure');
      assert.deepEqual(lldErrors(again.log), lldErrors(user.log), 'line for line');
      // The task rewrote the objects (VS Code's watcher reports it, as after any build).
      lsp.notify('workspace/didChangeWatchedFiles', {
        changes: ['vgettimeofday.o', 'vgetrandom.o'].map((o) => ({
          uri: pathToFileURL(join(tree, VDSO, o)).toString(),
          type: 2,
        })),
      });

      // The fix, as the editor applies it; the objects are now stale evidence.
      const d = pub.diagnostics.find((x) => x.code === RULE) as LspDiagnostic;
      const actions = await lsp.request<CodeAction[]>('textDocument/codeAction', {
        textDocument: { uri },
        range: d.range,
        context: { diagnostics: [d], only: ['quickfix'] },
      });
      const fix = actions.find((a) => a.edit);
      assert.ok(fix?.edit, `a quick-fix for ${d.message}: ${JSON.stringify(actions.map((a) => a.title))}`);
      const fixed = applyLspEdits(pristine, fix.edit.documentChanges[0].edits);
      writeFileSync(makefile, fixed);
      lsp.change(uri, 2, fixed);
      const stalePub = await lsp.diagnostics(uri, (p) => p.version === 2, 120_000);
      const stale = stalePub.diagnostics.find((x) => x.code === STALE);
      assert.ok(stale, stalePub.diagnostics.map((x) => `${x.code}: ${x.message}`).join('\n'));
      const rebuild = (
        await lsp.request<CodeAction[]>('textDocument/codeAction', {
          textDocument: { uri },
          range: stale.range,
          context: { diagnostics: [stale] },
        })
      ).find((a) => a.command?.command === 'kbuildDiagnostics.rebuild');
      assert.deepEqual(rebuild?.command?.arguments, [{ makefileUri: pathToFileURL(makefile).toString() }]);
      const { task: task2 } = await lsp.send(buildTask, {
        makefileUri: uri,
      });
      assert.deepEqual(task2?.args, task.args, 'the rebuild passes the same flag: it confirms the fix');
      const passed = runBuild(task2.cwd, task2.command, task2.args);
      assert.equal(passed.status, 0, `the rebuild passes:\n${passed.log.slice(-3000)}`);

      // The objects changed (VS Code's watcher reports it): the evidence refreshes; the flag is still
      // the build's (kernel/bounds.s records it), though the vDSO objects no longer get it.
      lsp.notify('workspace/didChangeWatchedFiles', {
        changes: [{ uri: pathToFileURL(join(tree, VDSO, 'vgettimeofday.o')).toString(), type: 2 }],
      });
      lsp.change(uri, 3, fixed);
      const after = await lsp.diagnostics(uri, (p) => p.version === 3, 120_000);
      assert.deepEqual(
        after.diagnostics.filter((x) => x.code === RULE || x.code === STALE).map((x) => x.message),
        [],
      );
      assert.ok(!readFileSync(join(tree, VDSO, '.vgettimeofday.o.cmd'), 'utf8').includes(FLAG));
      const { task: task3 } = await lsp.send(buildTask, {
        makefileUri: uri,
      });
      assert.deepEqual(task3?.args, task.args);
    } finally {
      await lsp.stop();
      writeFileSync(makefile, pristine);
    }
  },
);
