// The orphan-sections rule where the tree's own Kbuild adds the flag: Linux 6.12 arm64 with 6.13's
// Propeller lines backported (scripts/prepare-propeller-tree.sh: scripts/Makefile.propeller, its
// include, the _c_flags block, CONFIG_PROPELLER_CLANG=y, CONFIG_WERROR=y), no KCFLAGS. Each verdict is
// the real server's, from the Makefiles alone (the vDSO's objects removed, no .cmd file), and each is
// checked against a real build of arch/arm64/kernel/vdso/:
// - the block's default $(is-kernel-object) (as merged): the vDSO's objects are not kernel objects, the
//   flag never reaches them, the server says nothing and the build passes;
// Not here yet: the default y (the form vendor trees carry), where the flag does reach the vDSO. The
// rule does not yet predict it from the Makefiles alone (it finds it from the objects once built).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LspClient, type LspDiagnostic } from '../../../../../../test/helpers/lspClient';
import {
  cleanVdso,
  lldOrphanLines,
  makeArm64,
  missingToolchain,
  preparedTree,
  VDSO,
} from '../../../../../../test/helpers/kernelBuild';

const RULE = 'orphan-sections';
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

test(
  "real Linux 6.12 arm64 vDSO with 6.13 Propeller backported: the flag from the tree's own Kbuild, judged from the Makefiles",
  { skip: missing ?? false, timeout: 60 * 60_000 },
  async (t) => {
    const tree = prepare('mainline');
    const makefilePath = join(tree, VDSO, 'Makefile');
    const pristine = readFileSync(makefilePath, 'utf8');
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
    } finally {
      writeFileSync(makefilePath, pristine);
      prepare('mainline');
    }
  },
);
