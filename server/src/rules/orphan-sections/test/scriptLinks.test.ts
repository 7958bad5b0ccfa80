// The vmlinux link, found by what the make files do: the top Makefile's rule that runs a sub-make,
// whose rule runs a script of the tree with the top Makefile's --orphan-handling= flags; its linker
// script ($(KBUILD_LDS)) and inputs (what the script links: vmlinux.a whole, lib.a on demand).
// On a small tree written here, with an object clang-19 really compiles into a thin archive made by
// llvm-ar-19, the rule's message is ld.lld-19's own line for the same link; on the real top Makefiles
// of Linux 6.1 (--orphan-handling=warn written in) and 6.12 ($(CONFIG_LD_ORPHAN_WARN_LEVEL)) the link
// is found with the inputs each configuration makes link-vmlinux.sh use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile, makefileContext } from '../../../analysis';
import { BuildReader } from '../../../kbuild/buildModel';
import { findTool } from '../../../../../test/helpers/hostTools';
import { kernelTree, skipUnlessKernel } from '../../../../../test/helpers/kernelTree';
import { orphanSections } from '..';
import { linkInputsOfScript } from '../linkScript';
import { scriptLinks } from '../scriptLinks';

const clang = findTool(['clang-19']);
const lld = findTool(['ld.lld-19']);
const ar = findTool(['llvm-ar-19']);
const tools = !clang || !lld || !ar ? 'clang-19, ld.lld-19 or llvm-ar-19 is not installed' : undefined;
if (tools && process.env.CI) throw new Error(`CI needs ${tools}`);

// The shape of Linux 6.12's top Makefile, scripts/Makefile.vmlinux and scripts/link-vmlinux.sh, cut down.
const TOP = [
  'LDFLAGS_vmlinux =',
  'SRCARCH := $(ARCH)',
  'ifdef CONFIG_LD_ORPHAN_WARN',
  'LDFLAGS_vmlinux += --orphan-handling=$(CONFIG_LD_ORPHAN_WARN_LEVEL)',
  'endif',
  'export KBUILD_LDS := arch/$(SRCARCH)/kernel/vmlinux.lds',
  'KBUILD_VMLINUX_LIBS := lib/lib.a',
  'export KBUILD_VMLINUX_LIBS',
  'vmlinux: vmlinux.o $(KBUILD_LDS) modpost',
  '\t$(Q)$(MAKE) -f $(srctree)/scripts/Makefile.vmlinux',
  '',
].join('\n');
const SUB = [
  'include include/config/auto.conf',
  'cmd_link_vmlinux = $< "$(LD)" "$(KBUILD_LDFLAGS)" "$(LDFLAGS_vmlinux)"',
  'vmlinux: scripts/link-vmlinux.sh vmlinux.o $(KBUILD_LDS) FORCE',
  '\t+$(call if_changed_dep,link_vmlinux)',
  '',
].join('\n');
const SCRIPT = [
  '#!/bin/sh',
  'LD="$1"',
  'LDFLAGS_vmlinux="$3"',
  'is_enabled() {',
  '\tgrep -q "^$1=y" include/config/auto.conf',
  '}',
  'vmlinux_link()',
  '{',
  '\tlocal objs',
  '\tif is_enabled CONFIG_LTO_CLANG || is_enabled CONFIG_X86_KERNEL_IBT; then',
  '\t\tobjs=vmlinux.o',
  '\t\tlibs=',
  '\telse',
  '\t\tobjs=vmlinux.a',
  '\t\tlibs="${KBUILD_VMLINUX_LIBS}"',
  '\tfi',
  '\tif is_enabled CONFIG_MODULES; then',
  '\t\tobjs="${objs} .vmlinux.export.o"',
  '\tfi',
  '\t${ld} ${ldflags} -o ${output}\t\t\t\t\t\\',
  '\t\t${wl}--whole-archive ${objs} ${wl}--no-whole-archive\t\\',
  '\t\t${wl}--start-group ${libs} ${wl}--end-group\t\t\\',
  '\t\t${kallsymso} ${btf_vmlinux_bin_o} ${ldlibs}',
  '}',
  '',
].join('\n');
// Places what the kernel's script places of a small object (ELF_DETAILS' .comment; arm64 discards .eh_frame).
const LDS = [
  'SECTIONS {',
  '  .text : { *(.text*) }',
  '  .data : { *(.data*) }',
  '  .bss : { *(.bss*) }',
  '  .comment 0 : { *(.comment) }',
  '  .symtab 0 : { *(.symtab) }',
  '  .strtab 0 : { *(.strtab) }',
  '  .shstrtab 0 : { *(.shstrtab) }',
  '  /DISCARD/ : { *(.eh_frame) *(.note.GNU-stack) }',
  '}',
  '',
].join('\n');
const CONFIG = '# Linux/arm64 6.12.0 Kernel Configuration\nCONFIG_ARM64=y\nCONFIG_LD_ORPHAN_WARN=y\n';

function smallTree(config: string): { dir: string; build: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kbd-vmlinux-'));
  mkdirSync(join(dir, 'scripts'));
  writeFileSync(join(dir, 'scripts', 'Kbuild.include'), '');
  writeFileSync(join(dir, 'scripts', 'Makefile.lib'), '');
  writeFileSync(join(dir, 'scripts', 'Makefile.vmlinux'), SUB);
  writeFileSync(join(dir, 'scripts', 'link-vmlinux.sh'), SCRIPT);
  writeFileSync(join(dir, 'Makefile'), TOP);
  mkdirSync(join(dir, 'arch', 'arm64', 'kernel'), { recursive: true });
  writeFileSync(join(dir, 'arch', 'arm64', 'kernel', 'vmlinux.lds'), LDS);
  const build = join(dir, 'build');
  mkdirSync(join(build, 'include', 'config'), { recursive: true });
  writeFileSync(join(build, '.config'), config);
  writeFileSync(join(build, 'include', 'config', 'auto.conf'), config);
  return { dir, build };
}

test('the synthetic shape: the vmlinux link, its script and inputs, and the level from the configuration', () => {
  const t = smallTree(CONFIG + 'CONFIG_LD_ORPHAN_WARN_LEVEL="error"\n');
  try {
    const ctx = makefileContext(join(t.dir, 'Makefile'), TOP, t.dir, undefined, t.build);
    const { links, incomplete } = scriptLinks(ctx);
    assert.deepEqual(incomplete, []);
    assert.equal(links.length, 1);
    const l = links[0];
    assert.equal(l.output, 'vmlinux');
    assert.equal(l.script, 'arch/arm64/kernel/vmlinux.lds');
    assert.deepEqual(l.inputs, ['vmlinux.a', 'lib/lib.a']);
    assert.deepEqual(l.wholeArchives, ['vmlinux.a']);
    assert.equal(l.level, 'error');
    assert.equal(l.levelConfig, 'CONFIG_LD_ORPHAN_WARN_LEVEL');
    assert.equal(l.anchor?.start.line, 3, 'on the line that adds --orphan-handling=');
    assert.equal(l.runsIn, 'scripts/link-vmlinux.sh');
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
});

test('the synthetic shape: no orphan option configured, no link; any other make file, no link', () => {
  const t = smallTree('# Linux/arm64 6.12.0 Kernel Configuration\nCONFIG_ARM64=y\n');
  try {
    const ctx = makefileContext(join(t.dir, 'Makefile'), TOP, t.dir, undefined, t.build);
    assert.deepEqual(scriptLinks(ctx).links, []);
    mkdirSync(join(t.dir, 'lib'));
    writeFileSync(join(t.dir, 'lib', 'Makefile'), TOP);
    const sub = makefileContext(join(t.dir, 'lib', 'Makefile'), TOP, t.dir, undefined, t.build);
    assert.deepEqual(scriptLinks(sub).links, [], 'only the top Makefile hands vmlinux to the sub-make');
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
});

test('link-vmlinux.sh read: is_enabled and string tests decide the inputs; an unknown test is said', () => {
  const env = (n: string) => ({ KBUILD_VMLINUX_LIBS: 'lib/lib.a arch/arm64/lib/lib.a' })[n];
  const plain = linkInputsOfScript(SCRIPT, {}, env);
  assert.deepEqual(plain, { whole: ['vmlinux.a'], group: ['lib/lib.a', 'arch/arm64/lib/lib.a'], incomplete: [] });
  const lto = linkInputsOfScript(SCRIPT, { CONFIG_LTO_CLANG: 'y', CONFIG_MODULES: 'y' }, env);
  assert.deepEqual(lto?.whole, ['vmlinux.o', '.vmlinux.export.o']);
  assert.deepEqual(lto?.group, []);
  const odd = SCRIPT.replace('if is_enabled CONFIG_MODULES; then', 'if [ -n "${FOO}" ]; then');
  const r = linkInputsOfScript(odd, {}, env);
  assert.equal(r?.incomplete.length, 1, JSON.stringify(r));
  assert.match(r?.incomplete[0] ?? '', /cannot tell .*FOO.*objs/);
  assert.equal(linkInputsOfScript('#!/bin/sh\nld -o x a.o\n', {}, env), undefined, 'no whole-archive link: none');
});

// One callback over 80 lines on purpose: the objects, the archives and the link are built once and
// every assertion compares the server's lines with that one ld.lld-19 run.
test(
  "objects clang-19 compiled with -fbasic-block-sections=labels in vmlinux.a and a lib.a member it uses: ld.lld-19's own lines, on the LDFLAGS_vmlinux line",
  { skip: tools },
  async () => {
    const t = smallTree(CONFIG + 'CONFIG_LD_ORPHAN_WARN_LEVEL="error"\n');
    try {
      mkdirSync(join(t.build, 'kernel'));
      mkdirSync(join(t.dir, 'kernel'));
      const src = join(t.dir, 'kernel', 'fork.c');
      writeFileSync(
        src,
        'int g;\nint used_one(int);\nint fork_one(int x) { if (x > 2) return g + used_one(x); return x; }\n',
      );
      const obj = join(t.build, 'kernel', 'fork.o');
      const flags = ['--target=aarch64-linux-gnu', '-O2', '-fbasic-block-sections=labels'];
      const cc = spawnSync(clang as string, [...flags, '-c', src, '-o', obj], { encoding: 'utf8' });
      assert.equal(cc.status, 0, cc.stderr);
      // The .cmd file Kbuild writes: the flag as the last build passed it (KCFLAGS).
      writeFileSync(
        join(t.build, 'kernel', '.fork.o.cmd'),
        `savedcmd_kernel/fork.o := clang-19 ${flags.join(' ')} -c -o kernel/fork.o ../kernel/fork.c\n`,
      );
      const a = spawnSync(ar as string, ['cDPrST', 'vmlinux.a', 'kernel/fork.o'], { cwd: t.build, encoding: 'utf8' });
      assert.equal(a.status, 0, a.stderr);
      writeFileSync(
        join(t.build, '.vmlinux.a.cmd'),
        'savedcmd_vmlinux.a := llvm-ar-19 cDPrST vmlinux.a kernel/fork.o\n',
      );
      // lib.a: two members with the same section; fork.o uses one (ld.lld links it), nothing the other.
      mkdirSync(join(t.build, 'lib'));
      for (const [name, text] of [
        ['unused', 'int unused_one(int x) { if (x > 5) return x * 3; return x; }\n'],
        ['used', 'int used_one(int x) { if (x > 7) return x * 5; return x; }\n'],
      ]) {
        const libSrc = join(t.dir, 'kernel', `${name}.c`);
        writeFileSync(libSrc, text);
        const libCc = spawnSync(clang as string, [...flags, '-c', libSrc, '-o', join(t.build, 'lib', `${name}.o`)], {
          encoding: 'utf8',
        });
        assert.equal(libCc.status, 0, libCc.stderr);
      }
      const libAr = spawnSync(ar as string, ['cDPrST', 'lib/lib.a', 'lib/unused.o', 'lib/used.o'], {
        cwd: t.build,
        encoding: 'utf8',
      });
      assert.equal(libAr.status, 0, libAr.stderr);
      // The oracle: ld.lld-19 on the same link.
      const lds = join(t.dir, 'arch', 'arm64', 'kernel', 'vmlinux.lds');
      const ld = spawnSync(
        lld as string,
        [
          '--orphan-handling=error',
          `--script=${lds}`,
          '-o',
          'vmlinux',
          '--whole-archive',
          'vmlinux.a',
          '--no-whole-archive',
          '--start-group',
          'lib/lib.a',
          '--end-group',
        ],
        { cwd: t.build, encoding: 'utf8' },
      );
      assert.notEqual(ld.status, 0);
      const lines = [...ld.stderr.matchAll(/error: (.*)$/gm)].map((m) => m[1]);
      const expected = "vmlinux.a(kernel/fork.o):(.llvm_bb_addr_map) is being placed in '.llvm_bb_addr_map'";
      const member = "lib/lib.a(used.o):(.llvm_bb_addr_map) is being placed in '.llvm_bb_addr_map'";
      assert.deepEqual(lines, [expected, member], ld.stderr);

      const a2 = await analyzeFile(join(t.dir, 'Makefile'), TOP, {
        rules: [orphanSections],
        reader: new BuildReader(),
        docsDir: '/nonexistent',
        buildDirectory: t.build,
      });
      const d = a2.diagnostics.filter((x) => x.code === 'orphan-sections');
      assert.equal(d.length, 1, JSON.stringify(a2.diagnostics));
      assert.equal(d[0].severity, 1, 'an error: the level is "error"');
      assert.equal(d[0].range.start.line, 3, 'on the line that adds --orphan-handling= to LDFLAGS_vmlinux');
      assert.ok(String(d[0].message).includes(`: ${expected}; ${member}.`), String(d[0].message));
      assert.equal(String(d[0].message).split(' is being placed in ').length, 3, "those lines only, as ld.lld's");
      const rel = (d[0].relatedInformation ?? []).map((r) => r.message).join('\n');
      assert.match(rel, /fork\.o was compiled with -fbasic-block-sections=labels/);
      assert.match(rel, /CONFIG_LD_ORPHAN_WARN_LEVEL="error" in the build's configuration/);
      // The unused lib.a member is not a finding: nothing the link reads uses its symbols (the server
      // follows them, kbuild/archiveMembers.ts), so ld.lld does not link it, and nothing is left unknown.
      assert.ok(!String(d[0].message).includes('unused.o'));
      assert.ok(!a2.incomplete.some((i) => /unused\.o/.test(i)), JSON.stringify(a2.incomplete));
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
    }
  },
);

function realTopLinks(version: string, config: string) {
  const t = kernelTree(version);
  if (!('path' in t)) throw new Error(t.missing);
  const build = mkdtempSync(join(tmpdir(), 'kbd-vmlinux-real-'));
  try {
    writeFileSync(join(build, '.config'), config);
    const file = join(t.path, 'Makefile');
    const text = readFileSync(file, 'utf8');
    const ctx = makefileContext(file, text, t.path, undefined, build);
    // The oracle for the line: where the file itself adds the option to LDFLAGS_vmlinux.
    const line = text.split('\n').findIndex((l) => /^LDFLAGS_vmlinux\s*\+=\s*--orphan-handling=/.test(l));
    return { ...scriptLinks(ctx), line };
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

for (const [version, level] of [
  ['6.12', 'error'],
  ['6.1', 'warn'],
] as const) {
  test(
    `Linux ${version}'s top Makefile: the vmlinux link at --orphan-handling=${level}`,
    { skip: skipUnlessKernel(version) },
    () => {
      const r = realTopLinks(version, `${CONFIG}CONFIG_WERROR=y\nCONFIG_LD_ORPHAN_WARN_LEVEL="error"\n`);
      assert.deepEqual(r.incomplete, []);
      assert.equal(r.links.length, 1, JSON.stringify(r.links.map((l) => l.output)));
      const l = r.links[0];
      assert.equal(l.output, 'vmlinux');
      assert.equal(l.script, 'arch/arm64/kernel/vmlinux.lds');
      // lib/lib.a from the top Makefile's libs-y, arch/arm64/lib/lib.a from arch/arm64/Makefile's (included).
      assert.deepEqual(l.inputs, ['vmlinux.a', 'init/version-timestamp.o', 'arch/arm64/lib/lib.a', 'lib/lib.a']);
      assert.deepEqual(l.wholeArchives, ['vmlinux.a']);
      // 6.1 writes `warn` into the Makefile; 6.12 reads the configuration's level.
      assert.equal(l.level, level);
      assert.equal(l.levelConfig, version === '6.12' ? 'CONFIG_LD_ORPHAN_WARN_LEVEL' : undefined);
      assert.ok(r.line > 0);
      assert.equal(l.anchor?.start.line, r.line);
      assert.equal(l.runsIn, 'scripts/link-vmlinux.sh');
    },
  );

  test(
    `Linux ${version}'s top Makefile: modules and LTO change what link-vmlinux.sh links; no orphan option, no link`,
    { skip: skipUnlessKernel(version) },
    () => {
      const lto = realTopLinks(
        version,
        `${CONFIG}CONFIG_MODULES=y\nCONFIG_LTO_CLANG=y\nCONFIG_LD_ORPHAN_WARN_LEVEL="warn"\n`,
      );
      assert.deepEqual(lto.links[0]?.inputs, ['vmlinux.o', '.vmlinux.export.o', 'init/version-timestamp.o']);
      assert.deepEqual(lto.links[0]?.wholeArchives, []);
      const x86 = realTopLinks(
        version,
        '# Linux/x86 6.12.0 Kernel Configuration\nCONFIG_X86=y\nCONFIG_X86_64=y\nCONFIG_LD_ORPHAN_WARN=y\nCONFIG_LD_ORPHAN_WARN_LEVEL="warn"\n',
      );
      assert.equal(x86.links[0]?.script, 'arch/x86/kernel/vmlinux.lds');
      assert.equal(x86.links[0]?.level, 'warn');
      const none = realTopLinks(version, '# Linux/arm64 6.12.0 Kernel Configuration\nCONFIG_ARM64=y\n');
      assert.deepEqual(none.links, [], 'without CONFIG_LD_ORPHAN_WARN the top Makefile passes no --orphan-handling=');
    },
  );
}
