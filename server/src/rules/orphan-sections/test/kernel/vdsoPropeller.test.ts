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
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LspClient, type LspDiagnostic } from '../helpers/lspClient';
import { root } from '../helpers/kernelTree';

const RULE = 'orphan-sections';
const VDSO = 'arch/arm64/kernel/vdso';

function missingTools(): string | undefined {
  for (const tool of ['clang-19', 'ld.lld-19', 'llvm-readelf-19', 'make', 'bc', 'flex', 'bison']) {
    if (spawnSync('which', [tool]).status !== 0) return `${tool} is not installed`;
  }
  if (!existsSync('/usr/src/linux-source-6.12.tar.xz')) return 'linux-source-6.12 is not installed';
  return undefined;
}
const missing = missingTools();
if (missing && process.env.CI) throw new Error(`CI needs the kernel toolchain: ${missing}`);

function prepare(form: 'mainline' | 'y'): string {
  const out = execFileSync('bash', [join(root, 'scripts', 'prepare-propeller-tree.sh'), 'use', form], {
    encoding: 'utf8',
    timeout: 30 * 60_000,
  });
  return out.trim().split('\n').pop() as string;
}

function make(tree: string, args: string[]): { status: number; log: string } {
  const r = spawnSync('make', ['-C', tree, 'ARCH=arm64', 'LLVM=-19', '-j2', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: 20 * 60_000,
  });
  return { status: r.status ?? 1, log: `${r.stdout}\n${r.stderr}` };
}

function cleanVdso(tree: string): void {
  const dir = join(tree, VDSO);
  for (const n of readdirSync(dir))
    if (/\.(o|so|dbg|lds)$/.test(n) || /^\..*\.cmd$/.test(n)) rmSync(join(dir, n), { force: true });
}

function lldLines(log: string, kind: 'error' | 'warning'): string[] {
  return [...log.matchAll(new RegExp(`^ld\\.lld(?:-\\d+)?: ${kind}: (.*is being placed in '.*')$`, 'gm'))]
    .map((m) => m[1])
    .sort();
}

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
          const built = make(tree, [`${VDSO}/`]);
          assert.equal(built.status, 0, built.log.slice(-3000));
          assert.deepEqual(lldLines(built.log, 'warning'), []);
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
