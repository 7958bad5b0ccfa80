// The build's toolchain as the build records it: the configuration (include/config/auto.conf, else
// .config: CONFIG_CC_IS_CLANG, CONFIG_CLANG_VERSION, CONFIG_LD_IS_LLD, CONFIG_LLD_VERSION, the arch),
// else the compiler a Kbuild .cmd file names. Pure: the caller reads the files.

export type CompilerKind = 'clang' | 'gcc';

export interface Toolchain {
  /** Undefined when nothing the build recorded says which compiler it uses. */
  compiler?: CompilerKind;
  /** Kconfig's form: major * 10000 + minor * 100 + patch (190106 for clang 19.1.6), when recorded. */
  compilerVersion?: number;
  /** The major version (from the full version, or from a compiler name such as clang-19). */
  compilerMajor?: number;
  linker?: 'lld' | 'bfd';
  linkerVersion?: number;
  /** Kbuild's SRCARCH (arm64, x86, riscv, ...), from the configuration. */
  arch?: string;
  /** Where this was read (a file, or a .cmd command), for messages. */
  source: string;
}

/** CONFIG_<ARCH>=y symbols and the SRCARCH each one means (the arches whose options the table knows). */
const ARCH_SYMBOLS: readonly [string, string][] = [
  ['CONFIG_ARM64', 'arm64'],
  ['CONFIG_X86', 'x86'],
  ['CONFIG_RISCV', 'riscv'],
  ['CONFIG_ARM', 'arm'],
  ['CONFIG_PPC', 'powerpc'],
  ['CONFIG_S390', 's390'],
  ['CONFIG_LOONGARCH', 'loongarch'],
  ['CONFIG_MIPS', 'mips'],
];

function versionOf(value: string | undefined): number | undefined {
  if (value === undefined || !/^[0-9]+$/.test(value) || Number(value) === 0) return undefined;
  return Number(value);
}

/** The toolchain a build configuration names (undefined fields where it says nothing). */
export function toolchainFromConfig(config: Readonly<Record<string, string>>, source: string): Toolchain {
  const t: Toolchain = { source };
  if (config.CONFIG_CC_IS_CLANG === 'y') {
    t.compiler = 'clang';
    t.compilerVersion = versionOf(config.CONFIG_CLANG_VERSION);
  } else if (config.CONFIG_CC_IS_GCC === 'y') {
    t.compiler = 'gcc';
    t.compilerVersion = versionOf(config.CONFIG_GCC_VERSION);
  }
  if (config.CONFIG_LD_IS_LLD === 'y') {
    t.linker = 'lld';
    t.linkerVersion = versionOf(config.CONFIG_LLD_VERSION);
  } else if (config.CONFIG_LD_IS_BFD === 'y') {
    t.linker = 'bfd';
    t.linkerVersion = versionOf(config.CONFIG_LD_VERSION);
  }
  t.compilerMajor = majorOf(t.compilerVersion);
  t.arch = ARCH_SYMBOLS.find(([symbol]) => config[symbol] === 'y')?.[1];
  return t;
}

/**
 * The compiler a recorded compile command runs (`clang-19`, `/usr/bin/clang`, `aarch64-linux-gnu-gcc-12`,
 * a `ccache clang` wrapper): its kind and, when the name carries it, its major version.
 */
export function compilerOfCommand(words: readonly string[]): { compiler: CompilerKind; major?: number } | undefined {
  let i = 0;
  // Launchers Kbuild users put in CC: they run the next word.
  while (i < words.length - 1 && /^(?:.*\/)?(?:ccache|distcc|sccache|env)$/.test(words[i])) i++;
  const name = (words[i] ?? '').slice((words[i] ?? '').lastIndexOf('/') + 1);
  const m = /^(?:[\w.]+-)*?(clang|gcc|cc)(?:-([0-9]+)(?:\.[0-9.]*)?)?$/.exec(name);
  if (!m || m[1] === 'cc') return undefined;
  return { compiler: m[1] as CompilerKind, major: m[2] ? Number(m[2]) : undefined };
}

/** Target triples' first part -> Kbuild SRCARCH (clang commands carry --target=, from Kbuild's CLANG_FLAGS). */
const TRIPLE_ARCH: readonly [RegExp, string][] = [
  [/^aarch64(_be)?$/, 'arm64'],
  [/^(x86_64|i[3-6]86)$/, 'x86'],
  [/^riscv(32|64)$/, 'riscv'],
  [/^arm(v\d+\w*)?$/, 'arm'],
  [/^(powerpc|ppc)(64)?(le)?$/, 'powerpc'],
  [/^s390x?$/, 's390'],
  [/^loongarch64$/, 'loongarch'],
];

/** The arch a recorded clang command compiles for (its --target=), when it names one. */
export function archOfCommand(words: readonly string[]): string | undefined {
  const target = words.find((w) => w.startsWith('--target='))?.slice('--target='.length);
  if (!target) return undefined;
  const first = target.split('-')[0];
  return TRIPLE_ARCH.find(([re]) => re.test(first))?.[1];
}

/** The configuration's toolchain, completed by a recorded compile command where the configuration is silent. */
export function withRecordedCompiler(t: Toolchain, words: readonly string[] | undefined, where: string): Toolchain {
  if (t.compiler || !words) return t;
  const c = compilerOfCommand(words);
  if (!c) return t;
  return { ...t, compiler: c.compiler, compilerMajor: c.major, arch: t.arch ?? archOfCommand(words), source: where };
}

/** The major version of a Kconfig version number (190106 -> 19). */
export function majorOf(version: number | undefined): number | undefined {
  return version === undefined ? undefined : Math.floor(version / 10000);
}
