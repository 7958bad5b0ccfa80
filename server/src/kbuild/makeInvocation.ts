// The `make` command line that rebuilds one directory the way its build directory was built, from
// what the build records: O= (the build directory is not the tree), ARCH (the heading Kconfig writes
// into the configuration, else its CONFIG_<ARCH> symbol, else a compile's --target), the toolchain
// (LLVM=<prefix|suffix|1> when the configuration says clang and lld, else CC=/CROSS_COMPILE= from the
// compiler and linker the .cmd files name; LLVM_IAS=0 when the compile had -fno-integrated-as) and the
// user's flags (KCFLAGS, found by the caller). Pure: the caller reads the files; nothing is run.
import * as path from 'node:path';

export interface BuildRecords {
  sourceDir: string;
  buildDir: string;
  /** The goal directory relative to the tree ('.' for the top). */
  directory: string;
  /** CONFIG_* values of the build (auto.conf, else .config); empty when there is none. */
  config: Readonly<Record<string, string>>;
  /** ARCH from the configuration's heading (`# Linux/arm64 6.12.1 Kernel Configuration`). */
  configArch?: string;
  /** A recorded compile command's words (compiler first), when the build has one. */
  compile?: readonly string[];
  /** A recorded link command's words (the linker first), when the build has one. */
  link?: readonly string[];
  /** Flags to pass again as KCFLAGS, in order. */
  kcflags: readonly string[];
}

export interface MakeInvocation {
  args: string[];
  notes: string[];
}

/** CONFIG_<ARCH>=y symbols and the ARCH a user passes for them. */
const ARCH_SYMBOLS: readonly [string, string][] = [
  ['CONFIG_ARM64', 'arm64'],
  ['CONFIG_X86_64', 'x86_64'],
  ['CONFIG_X86_32', 'i386'],
  ['CONFIG_RISCV', 'riscv'],
  ['CONFIG_ARM', 'arm'],
  ['CONFIG_PPC', 'powerpc'],
  ['CONFIG_S390', 's390'],
  ['CONFIG_LOONGARCH', 'loongarch'],
  ['CONFIG_MIPS', 'mips'],
];

/** Target triples' first part -> ARCH (clang commands carry Kbuild's --target=). */
const TRIPLE_ARCH: readonly [RegExp, string][] = [
  [/^aarch64(_be)?$/, 'arm64'],
  [/^x86_64$/, 'x86_64'],
  [/^i[3-6]86$/, 'i386'],
  [/^riscv(32|64)$/, 'riscv'],
  [/^arm(v\d+\w*)?$/, 'arm'],
  [/^(powerpc|ppc)(64)?(le)?$/, 'powerpc'],
  [/^s390x?$/, 's390'],
  [/^loongarch64$/, 'loongarch'],
];

/** Launchers Kbuild users put in CC: they run the next word. */
const LAUNCHER = /^(?:.*\/)?(?:ccache|distcc|sccache)$/;

function programOf(words: readonly string[] | undefined): { launcher?: string; program: string } | undefined {
  if (!words || words.length === 0) return undefined;
  let i = 0;
  while (i < words.length - 1 && LAUNCHER.test(words[i])) i++;
  return { launcher: i > 0 ? words.slice(0, i).join(' ') : undefined, program: words[i] };
}

function archOf(r: BuildRecords): string | undefined {
  if (r.configArch) return r.configArch;
  const bySymbol = ARCH_SYMBOLS.find(([symbol]) => r.config[symbol] === 'y')?.[1];
  if (bySymbol) return bySymbol;
  const target = r.compile?.find((w) => w.startsWith('--target='))?.slice('--target='.length);
  const first = target?.split('-')[0];
  return first ? TRIPLE_ARCH.find(([re]) => re.test(first))?.[1] : undefined;
}

/**
 * The LLVM= value that makes Kbuild name `program` (`clang-19` -> `-19`, `/usr/lib/llvm-19/bin/ld.lld`
 * -> `/usr/lib/llvm-19/bin/`, `clang` -> `1`): Kbuild's CC is $(LLVM_PREFIX)clang$(LLVM_SUFFIX), LD
 * $(LLVM_PREFIX)ld.lld$(LLVM_SUFFIX), and LLVM= sets one of the two. Undefined when it cannot.
 */
function llvmValue(program: string, tool: 'clang' | 'ld.lld'): string | undefined {
  const m = new RegExp(`^(.*/)?${tool.replace('.', '\\.')}(-[0-9][0-9.]*)?$`).exec(program);
  if (!m || (m[1] && m[2])) return undefined;
  return m[1] ?? m[2] ?? '1';
}

/** The program Kbuild runs as `tool` for LLVM=value. */
function llvmProgram(value: string, tool: string): string {
  if (value.endsWith('/')) return `${value}${tool}`;
  return value.startsWith('-') ? `${tool}${value}` : tool;
}

/** `aarch64-linux-gnu-gcc-12` -> `aarch64-linux-gnu-`; `gcc` -> ''. */
function crossPrefix(program: string, tool: RegExp): string | undefined {
  const name = program.slice(program.lastIndexOf('/') + 1);
  const m = new RegExp(`^(.*-)?(?:${tool.source})(?:-[0-9][0-9.]*)?$`).exec(name);
  return m ? (m[1] ?? '') : undefined;
}

function toolchainArgs(r: BuildRecords, args: string[], notes: string[]): void {
  const cc = programOf(r.compile);
  const ld = programOf(r.link)?.program;
  const clang = r.config.CONFIG_CC_IS_CLANG === 'y' || (!!cc && /(^|\/)clang(-[0-9.]+)?$/.test(cc.program));
  const lld =
    r.config.CONFIG_LD_IS_LLD === 'y' ||
    (!!ld && /(^|\/)ld\.lld(-[0-9.]+)?$/.test(ld)) ||
    (!r.config.CONFIG_LD_IS_BFD && !ld && clang);
  if (!cc && !r.config.CONFIG_CC_IS_CLANG && !r.config.CONFIG_CC_IS_GCC) {
    notes.push('The build records no compiler (no configuration, no compile command): make uses its default CC.');
    return;
  }
  if (clang && lld) {
    // The linker's name decides LLVM= when the build records it (LD has no override below), else the compiler's.
    const llvm = (ld && llvmValue(ld, 'ld.lld')) ?? (cc && llvmValue(cc.program, 'clang')) ?? '1';
    args.push(`LLVM=${llvm}`);
    if (cc && (cc.launcher || cc.program !== llvmProgram(llvm, 'clang')))
      args.push(`CC=${cc.launcher ? `${cc.launcher} ` : ''}${cc.program}`);
    if (ld && ld !== llvmProgram(llvm, 'ld.lld')) args.push(`LD=${ld}`);
  } else if (cc) {
    const tool = clang ? /clang/ : /gcc|cc/;
    const cross = (ld && crossPrefix(ld, /ld(?:\.bfd)?/)) || crossPrefix(cc.program, tool) || '';
    if (cross) args.push(`CROSS_COMPILE=${cross}`);
    // Without LLVM=, Kbuild's CC is $(CROSS_COMPILE)gcc: a clang build always names its compiler.
    const kbuildDefault = `${cross}gcc`;
    if (cc.launcher || cc.program !== kbuildDefault)
      args.push(`CC=${cc.launcher ? `${cc.launcher} ` : ''}${cc.program}`);
  } else if (clang) args.push('CC=clang');
  // Kbuild passes -fno-integrated-as only for LLVM_IAS=0 (it decides whether clang emits some sections).
  if (clang && r.compile?.includes('-fno-integrated-as')) args.push('LLVM_IAS=0');
}

/** A shell word, quoted when it needs to be. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command line (after `make`), run in the kernel tree. */
export function makeInvocation(r: BuildRecords): MakeInvocation {
  const args: string[] = [];
  const notes: string[] = [];
  if (path.resolve(r.buildDir) !== path.resolve(r.sourceDir)) {
    const rel = path.relative(r.sourceDir, r.buildDir);
    args.push(`O=${rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : r.buildDir}`);
  }
  const arch = archOf(r);
  if (arch) args.push(`ARCH=${arch}`);
  else notes.push('The build records no ARCH: make builds for the host.');
  toolchainArgs(r, args, notes);
  if (r.kcflags.length > 0) args.push(`KCFLAGS=${r.kcflags.join(' ')}`);
  if (r.directory !== '.' && r.directory !== '') args.push(`${r.directory.replace(/\/+$/, '')}/`);
  return { args, notes };
}
