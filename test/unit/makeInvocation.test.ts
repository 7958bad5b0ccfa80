// The make command line a build task runs (kbuild/makeInvocation.ts), checked against the oracle
// that decides it: the real top Makefile of Linux 6.1 and 6.12, evaluated with the computed variables
// as make's command line sets them (an override of the Makefile's own assignments), must name exactly
// the compiler and linker the build's .cmd files recorded. Plus O=, ARCH, KCFLAGS, LLVM_IAS and the
// notes for what a build does not record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateMakefile } from '../../server/src/make/evaluator';
import { parseMakefile } from '../../server/src/make/parser';
import { makeInvocation, shellQuote, type BuildRecords } from '../../server/src/kbuild/makeInvocation';
import { kernelTree, skipUnlessKernel } from '../helpers/kernelTree';

const base: BuildRecords = { sourceDir: '/src/linux', buildDir: '/src/linux', directory: '.', config: {}, kcflags: [] };

/** $(CC) and $(LD) of the tree's top Makefile with `args` given on make's command line. */
function kbuildTools(tree: string, args: string[]): { cc: string; ld: string } {
  const vars = args.filter((a) => /^[A-Z_]+=/.test(a) && !/^(O|KCFLAGS|ARCH)=/.test(a));
  const overrides = vars.map((a) => `override ${a.slice(0, a.indexOf('='))} := ${a.slice(a.indexOf('=') + 1)}\n`);
  const mf = parseMakefile(overrides.join('') + readFileSync(join(tree, 'Makefile'), 'utf8'));
  // As make reads it in the final invocation (see kbuild/kbuildTree.ts).
  const ev = evaluateMakefile(mf, {
    initial: {
      sub_make_done: '1',
      abs_srctree: tree,
      abs_objtree: tree,
      CURDIR: tree,
      srctree: tree,
      objtree: tree,
      MAKEFLAGS: '-rR --no-print-directory',
      ARCH: 'arm64',
    },
    unknownConditions: 'false',
    // A clean environment: what the command line does not set is empty, as make sees it.
    undefinedIsEmpty: true,
  });
  return { cc: ev.expand('$(CC)').trim(), ld: ev.expand('$(LD)').trim() };
}

/** Recorded compiler (with launcher) and linker, and the configuration symbols a real build of them writes. */
const TOOLCHAINS: { compiler: string; linker: string; config: Record<string, string> }[] = [
  { compiler: 'clang-19', linker: 'ld.lld-19', config: { CONFIG_CC_IS_CLANG: 'y', CONFIG_LD_IS_LLD: 'y' } },
  { compiler: 'clang', linker: 'ld.lld', config: { CONFIG_CC_IS_CLANG: 'y', CONFIG_LD_IS_LLD: 'y' } },
  {
    compiler: '/usr/lib/llvm-19/bin/clang',
    linker: '/usr/lib/llvm-19/bin/ld.lld',
    config: { CONFIG_CC_IS_CLANG: 'y', CONFIG_LD_IS_LLD: 'y' },
  },
  { compiler: '/usr/bin/clang-19', linker: 'ld.lld-19', config: { CONFIG_CC_IS_CLANG: 'y', CONFIG_LD_IS_LLD: 'y' } },
  { compiler: 'ccache clang-19', linker: 'ld.lld-19', config: { CONFIG_CC_IS_CLANG: 'y', CONFIG_LD_IS_LLD: 'y' } },
  {
    compiler: 'aarch64-linux-gnu-gcc',
    linker: 'aarch64-linux-gnu-ld',
    config: { CONFIG_CC_IS_GCC: 'y', CONFIG_LD_IS_BFD: 'y' },
  },
  {
    compiler: 'aarch64-linux-gnu-gcc-12',
    linker: 'aarch64-linux-gnu-ld',
    config: { CONFIG_CC_IS_GCC: 'y', CONFIG_LD_IS_BFD: 'y' },
  },
  { compiler: 'gcc', linker: 'ld', config: { CONFIG_CC_IS_GCC: 'y', CONFIG_LD_IS_BFD: 'y' } },
  { compiler: 'clang', linker: 'aarch64-linux-gnu-ld', config: { CONFIG_CC_IS_CLANG: 'y', CONFIG_LD_IS_BFD: 'y' } },
];

for (const version of ['6.1', '6.12']) {
  test(
    `the computed variables make Linux ${version}'s Makefile name the recorded compiler and linker`,
    {
      skip: skipUnlessKernel(version),
    },
    () => {
      const t = kernelTree(version);
      assert.ok('path' in t);
      for (const tc of TOOLCHAINS) {
        const compile = [...tc.compiler.split(' '), '-c', '-o', 'init/main.o', 'init/main.c'];
        const { args } = makeInvocation({ ...base, config: tc.config, compile, link: [tc.linker, '-r'] });
        assert.deepEqual(kbuildTools(t.path, args), { cc: tc.compiler, ld: tc.linker }, args.join(' '));
      }
    },
  );
}

test('O= is the build directory relative to the tree (absolute when outside it), no O= in-tree', () => {
  const cmd = ['clang-19', '--target=aarch64-linux-gnu', '-c'];
  assert.deepEqual(makeInvocation({ ...base, buildDir: '/src/linux/out', compile: cmd }).args.slice(0, 1), ['O=out']);
  assert.deepEqual(makeInvocation({ ...base, buildDir: '/build/arm64', compile: cmd }).args.slice(0, 1), [
    'O=/build/arm64',
  ]);
  assert.ok(!makeInvocation({ ...base, compile: cmd }).args.some((a) => a.startsWith('O=')));
});

test('ARCH: the configuration heading, else its arch symbol, else the compile --target; none is a note', () => {
  const cmd = ['clang-19', '--target=aarch64-linux-gnu', '-c'];
  const arch = (r: Partial<BuildRecords>) =>
    makeInvocation({ ...base, ...r })
      .args.filter((a) => a.startsWith('ARCH='))
      .join();
  assert.equal(arch({ configArch: 'x86_64', config: { CONFIG_ARM64: 'y' }, compile: cmd }), 'ARCH=x86_64');
  assert.equal(arch({ config: { CONFIG_RISCV: 'y' }, compile: cmd }), 'ARCH=riscv');
  assert.equal(arch({ compile: cmd }), 'ARCH=arm64');
  const none = makeInvocation({ ...base, compile: ['clang-19', '-c'] });
  assert.equal(arch({ compile: ['clang-19', '-c'] }), '');
  assert.match(none.notes.join(' '), /no ARCH/);
  assert.match(makeInvocation(base).notes.join(' '), /no compiler/);
});

test('KCFLAGS in one argument, LLVM_IAS=0 for -fno-integrated-as, the goal last with a slash', () => {
  const r = makeInvocation({
    ...base,
    directory: 'arch/arm64/kvm/hyp/nvhe',
    compile: ['clang-19', '--target=aarch64-linux-gnu', '-fno-integrated-as', '-c'],
    kcflags: ['-fprofile-sample-use=/k/nvhe.prof', '-fbasic-block-sections=labels'],
  });
  assert.deepEqual(r.args, [
    'ARCH=arm64',
    'LLVM=-19',
    'LLVM_IAS=0',
    'KCFLAGS=-fprofile-sample-use=/k/nvhe.prof -fbasic-block-sections=labels',
    'arch/arm64/kvm/hyp/nvhe/',
  ]);
  assert.equal(shellQuote(r.args[3]), `'KCFLAGS=-fprofile-sample-use=/k/nvhe.prof -fbasic-block-sections=labels'`);
  assert.equal(shellQuote('arch/arm64/kvm/hyp/nvhe/'), 'arch/arm64/kvm/hyp/nvhe/');
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});
