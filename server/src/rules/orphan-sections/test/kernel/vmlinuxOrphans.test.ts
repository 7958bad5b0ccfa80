// The orphan-sections rule on the vmlinux link of a real Linux 6.12 arm64 build, in its cheap shape
// (scripts/build-vmlinux-sample.sh: tinyconfig + CONFIG_WERROR=y, out of tree, a sample of vmlinux
// objects that Kbuild really compiled with KCFLAGS=-fbasic-block-sections=labels, in a thin vmlinux.a
// as Kbuild makes it, lib/lib.a and arch/arm64/lib/lib.a as Kbuild makes them from lib/ and
// arch/arm64/lib/ with the same flag, and the real preprocessed vmlinux.lds). The real server, opened on the top
// Makefile, finds the link by what the make files do and says, before any link, an error on the line
// that adds --orphan-handling= to LDFLAGS_vmlinux, with ld.lld's own lines; then the real ld.lld-19,
// run with link-vmlinux.sh's linker command on the same vmlinux.a, prints exactly those lines.
// Then the server's script fix (place .llvm_bb_addr_map in vmlinux.lds.S, the preferred one for a link
// of kernel objects, as upstream did for x86 in 6.13), applied as an editor applies it: Kbuild
// preprocesses the edited vmlinux.lds.S again (make arch/arm64/kernel/vmlinux.lds) and the same ld.lld-19
// command links the same vmlinux.a with no orphan line and exit 0.
// The lib.a members: link-vmlinux.sh links them in --start-group ... --end-group, each only when the
// link uses one of its symbols, and ld.lld prints a line for each orphan of the members it pulls in.
// That was the gap a full build showed (docs/real-builds.md: ld.lld 589 lines, the server 557, which
// then said those members' orphans as incomplete and did not read the arch's lib.a at all: the top
// Makefile's arch/arm64/Makefile adds it to libs-y). On this sample, measured: ld.lld prints 24 lines,
// 12 from vmlinux.a, 11 from 8 of lib/lib.a's 41 members and 1 from arch/arm64/lib/lib.a(delay.o); the
// server, which now follows the members the link pulls in from the objects' symbol tables
// (kbuild/archiveMembers.ts) and reads the arch Makefile's libs-y, predicts the same 24 (before: 12, and
// 39 on-demand members said as incomplete).
// The full vmlinux link of the same configuration (far slower) is recorded in docs/real-builds.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyLspEdits, LspClient, type LspDiagnostic } from '../../../../../../test/helpers/lspClient';
import {
  lldOrphanLines,
  missingToolchain,
  predictedOrphanLines,
  preparedTree,
} from '../../../../../../test/helpers/kernelBuild';

const RULE = 'orphan-sections';

const missing = missingToolchain(['clang-19', 'ld.lld-19', 'llvm-ar-19', 'make', 'bc', 'flex', 'bison'], ['6.12']);

const lldLines = (log: string): string[] => lldOrphanLines(log, 'error');

interface CodeAction {
  title: string;
  isPreferred?: boolean;
  edit?: {
    documentChanges: { textDocument: { uri: string }; edits: { range: LspDiagnostic['range']; newText: string }[] }[];
  };
}

/** The linker command link-vmlinux.sh runs (see below), on the sample's vmlinux.a, with its output in `dir`. */
function linkVmlinux(build: string, dir: string): { status: number | null; stderr: string } {
  return spawnSync(
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
      // The one symbol the script itself reads (`jiffies = jiffies_64;`) that the sample does not
      // define (kernel/time/timer.o does): given, so that only the sections decide the link's status.
      '--defsym=jiffies_64=0',
      // The sample's code refers to symbols it does not define: those relocations (out of range at 0)
      // are warnings with --noinhibit-exec, and the output is written. Orphans stay errors.
      '--noinhibit-exec',
      '--error-limit=0',
      '-o',
      join(dir, '.tmp_vmlinux1'),
      '--whole-archive',
      'vmlinux.a',
      '--no-whole-archive',
      // KBUILD_VMLINUX_LIBS of arm64, as link-vmlinux.sh links them.
      '--start-group',
      'arch/arm64/lib/lib.a',
      'lib/lib.a',
      '--end-group',
    ],
    { cwd: build, encoding: 'utf8', maxBuffer: 1 << 26 },
  );
}

/** Kbuild preprocesses vmlinux.lds.S again (the sample's own make command line: nothing else changes). */
function makeLds(tree: string): void {
  const r = spawnSync(
    'make',
    [
      '-C',
      tree,
      'O=build',
      'ARCH=arm64',
      'LLVM=-19',
      '-j2',
      'KCFLAGS=-fbasic-block-sections=labels',
      'arch/arm64/kernel/vmlinux.lds',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 20 * 60_000 },
  );
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`.slice(-3000));
}

/** The ld.lld lines a diagnostic's message predicts, and how many more it says there are. */
function predicted(d: LspDiagnostic): { lines: string[]; more: number } {
  return { lines: predictedOrphanLines(d.message), more: Number(/\(and (\d+) more\)/.exec(d.message)?.[1] ?? 0) };
}

// One callback over 80 lines on purpose: one real link, and each step (prediction, ld.lld's lines,
// the fix applied, the link again) reads the state the step before it left.
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
    let actions: CodeAction[];
    try {
      await lsp.initialize(tree, {}, { workspace: { didChangeWatchedFiles: { dynamicRegistration: false } } });
      const uri = lsp.open(makefilePath, text);
      const pub = await lsp.diagnostics(uri, (p) => p.diagnostics.some((x) => x.code === RULE), 300_000);
      d = pub.diagnostics.find((x) => x.code === RULE);
      assert.ok(d);
      actions = await lsp.request<CodeAction[]>('textDocument/codeAction', {
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
      const ld = linkVmlinux(build, dir);
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
      // Members of the lib.a files the link pulled in are among ld.lld's lines, and the server's.
      const fromLibs = real.filter((l) => /^(arch\/arm64\/)?lib\/lib\.a\(/.test(l));
      assert.ok(fromLibs.length > 0, ld.stderr);
      console.log(
        `# ld.lld: ${real.length} orphan lines, ${fromLibs.length} from lib.a members; the server: ${mine.lines.length + mine.more}`,
      );
      assert.match(
        real.find((l) => l.startsWith('vmlinux.a(')) ?? '',
        /^vmlinux\.a\([a-z0-9_/]+\.o\):\(\.llvm_bb_addr_map\) is being placed in '\.llvm_bb_addr_map'$/,
      );

      // The preferred fix: the section placed in vmlinux.lds.S (every file of the action's edit).
      const place = actions.filter((a) => a.title === 'Place .llvm_bb_addr_map in vmlinux.lds.S');
      assert.equal(place.length, 1, fixTitles.join('\n'));
      assert.equal(place[0].isPreferred, true, 'a link of kernel objects: placing is the preferred fix');
      const changes = place[0].edit?.documentChanges ?? [];
      const lds = join(tree, 'arch', 'arm64', 'kernel', 'vmlinux.lds.S');
      assert.deepEqual(
        changes.map((c) => fileURLToPath(c.textDocument.uri)),
        [lds],
      );
      const pristine = readFileSync(lds, 'utf8');
      try {
        // The tree is a hard-linked copy: a new file, so the extracted tree's copy stays as it is.
        rmSync(lds);
        writeFileSync(lds, applyLspEdits(pristine, changes[0].edits));
        makeLds(tree);
        assert.match(readFileSync(join(build, 'arch/arm64/kernel/vmlinux.lds'), 'utf8'), /\*\(\.llvm_bb_addr_map\)/);
        const fixed = linkVmlinux(build, dir);
        assert.deepEqual(lldLines(fixed.stderr), [], 'no orphan left');
        assert.equal(fixed.status, 0, `the link passes with the section placed:\n${fixed.stderr.slice(-3000)}`);
        assert.doesNotMatch(fixed.stderr, /error:/);
        const secs = execFileSync('llvm-readelf-19', ['-S', '-W', join(dir, '.tmp_vmlinux1')], { encoding: 'utf8' });
        assert.match(secs, /\s\.llvm_bb_addr_map\s/, 'vmlinux keeps the section, for the profile tools');
      } finally {
        rmSync(lds);
        writeFileSync(lds, pristine);
        makeLds(tree);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
