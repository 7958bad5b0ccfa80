// The orphan-sections rule on the vmlinux link of a real Linux 6.12 arm64 build, in its cheap shape
// (scripts/build-vmlinux-sample.sh: tinyconfig + CONFIG_WERROR=y, out of tree, a sample of vmlinux
// objects that Kbuild really compiled with KCFLAGS=-fbasic-block-sections=labels, in a thin vmlinux.a
// as Kbuild makes it, and the real preprocessed vmlinux.lds). The real server, opened on the top
// Makefile, finds the link by what the make files do and says, before any link, an error on the line
// that adds --orphan-handling= to LDFLAGS_vmlinux, with ld.lld's own lines; then the real ld.lld-19,
// run with link-vmlinux.sh's linker command on the same vmlinux.a, prints exactly those lines.
// The full vmlinux link of the same configuration (far slower) is recorded in docs/real-builds.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient, type LspDiagnostic } from '../../../../../../test/helpers/lspClient';
import {
  lldOrphanLines,
  missingToolchain,
  predictedOrphanLines,
  preparedTree,
} from '../../../../../../test/helpers/kernelBuild';

const RULE = 'orphan-sections';

const missing = missingToolchain(['clang-19', 'ld.lld-19', 'llvm-ar-19', 'make', 'bc', 'flex', 'bison'], ['6.12']);

const lldLines = (log: string): string[] => lldOrphanLines(log, 'error');

/** The ld.lld lines a diagnostic's message predicts, and how many more it says there are. */
function predicted(d: LspDiagnostic): { lines: string[]; more: number } {
  return { lines: predictedOrphanLines(d.message), more: Number(/\(and (\d+) more\)/.exec(d.message)?.[1] ?? 0) };
}

test(
  'real Linux 6.12 arm64 vmlinux link (sample): the server predicts ld.lld-19 line for line, on LDFLAGS_vmlinux',
  { skip: missing ?? false, timeout: 40 * 60_000 },
  async () => {
    const tree = preparedTree('build-vmlinux-sample.sh');
    const build = join(tree, 'build');
    const makefilePath = join(tree, 'Makefile');
    const text = readFileSync(makefilePath, 'utf8');
    // Where the top Makefile adds the option (the oracle for the diagnostic's line).
    const levelLine = text.split('\n').findIndex((l) => /^LDFLAGS_vmlinux \+= --orphan-handling=/.test(l));
    assert.ok(levelLine > 0);

    const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
    let d: LspDiagnostic | undefined;
    let fixTitles: string[];
    try {
      await lsp.initialize(tree, {}, { workspace: { didChangeWatchedFiles: { dynamicRegistration: false } } });
      const uri = lsp.open(makefilePath, text);
      const pub = await lsp.diagnostics(uri, (p) => p.diagnostics.some((x) => x.code === RULE), 300_000);
      d = pub.diagnostics.find((x) => x.code === RULE);
      assert.ok(d);
      const actions = await lsp.request<{ title: string }[]>('textDocument/codeAction', {
        textDocument: { uri },
        range: d.range,
        context: { diagnostics: [d], only: ['quickfix'] },
      });
      fixTitles = actions.map((a) => a.title);
    } finally {
      await lsp.stop();
    }
    assert.equal(d.severity, 1, 'an error: CONFIG_WERROR=y makes CONFIG_LD_ORPHAN_WARN_LEVEL="error"');
    assert.equal(d.range.start.line, levelLine, 'on the line that adds --orphan-handling= to LDFLAGS_vmlinux');
    // A remove line in the top Makefile reaches no object: not offered.
    assert.ok(!fixTitles.some((t) => /section-making flag/.test(t)), fixTitles.join('\n'));

    // The linker command link-vmlinux.sh runs (KBUILD_LDFLAGS, LDFLAGS_vmlinux of this configuration,
    // --script, --whole-archive vmlinux.a), on the sample. Symbols the sample leaves undefined are
    // not this test's business: ignored, which changes no section's placement.
    const dir = mkdtempSync(join(tmpdir(), 'kbd-vmlinux-link-'));
    try {
      const ld = spawnSync(
        'ld.lld-19',
        [
          '-EL',
          '-maarch64elf',
          '-z',
          'norelro',
          '-z',
          'noexecstack',
          '--build-id=sha1',
          '--orphan-handling=error',
          '--script=./arch/arm64/kernel/vmlinux.lds',
          '--unresolved-symbols=ignore-all',
          '--error-limit=0',
          '-o',
          join(dir, '.tmp_vmlinux1'),
          '--whole-archive',
          'vmlinux.a',
          '--no-whole-archive',
        ],
        { cwd: build, encoding: 'utf8', maxBuffer: 1 << 26 },
      );
      assert.notEqual(ld.status, 0, 'the link fails');
      const real = lldLines(ld.stderr);
      assert.ok(real.length > 0, ld.stderr);
      const mine = predicted(d);
      assert.equal(mine.lines.length + mine.more, real.length, `as many lines as ld.lld: ${d.message}\n${ld.stderr}`);
      // Each line the message shows is one of ld.lld's (as many times as ld.lld prints it, at most).
      const left = [...real];
      for (const l of mine.lines) {
        const i = left.indexOf(l);
        assert.ok(i >= 0, `${l} is ld.lld's:\n${ld.stderr}`);
        left.splice(i, 1);
      }
      assert.match(
        real[0],
        /^vmlinux\.a\([a-z0-9_/]+\.o\):\(\.llvm_bb_addr_map\) is being placed in '\.llvm_bb_addr_map'$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
