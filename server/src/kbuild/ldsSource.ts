// How Kbuild makes a linker script from its `.lds.S` (scripts/Makefile.build's cpp_lds_S:
// `$(CPP) $(cpp_flags) -P -U$(ARCH) -D__ASSEMBLY__ -DLINKER_SCRIPT`, with Makefile.lib's cpp_flags =
// NOSTDINC_FLAGS, the top Makefile's LINUXINCLUDE (its -I dirs and `-include compiler-version.h
// -include kconfig.h`), KBUILD_CPPFLAGS (`-D__KERNEL__` and the arch Makefile's additions) and the
// directory's CPPFLAGS_<target>), and which script the NEXT build links with: the build's own .lds
// when make would keep it (checkGeneratedFile), else the .lds.S preprocessed here. Nothing is run.
import * as path from 'node:path';
import { readRegularTextSync } from '../fs/safeRead';
import { FileStateMemo } from '../fs/readRecord';
import { evaluateMakefile } from '../make/evaluator';
import { parseMakefile } from '../make/parser';
import { isUnknownWord, splitWords } from '../make/values';
import { preprocess } from '../lds/preprocess';
import { evaluateInKbuild } from './compileFlags';
import { checkGeneratedFile } from './generatedFile';
import { loadKbuildTree, readConfig } from './kbuildTree';

const MAX_INCLUDE_BYTES = 4 << 20;

/** SRCARCH from the configuration (Kconfig's arch symbols), else from a path under arch/. */
export function srcArchOf(config: Record<string, string>, scriptPath = ''): string | undefined {
  const table: [string, string][] = [
    ['CONFIG_ARM64', 'arm64'],
    ['CONFIG_X86', 'x86'],
    ['CONFIG_ARM', 'arm'],
    ['CONFIG_RISCV', 'riscv'],
    ['CONFIG_PPC', 'powerpc'],
    ['CONFIG_S390', 's390'],
    ['CONFIG_MIPS', 'mips'],
    ['CONFIG_LOONGARCH', 'loongarch'],
  ];
  for (const [k, a] of table) if (config[k] === 'y') return a;
  return /(?:^|\/)arch\/([^/]+)\//.exec(scriptPath)?.[1];
}

/** ARCH as make gets it: arm64 and x86 builds pass their SRCARCH (x86_64 for a 64-bit x86 .config). */
function archOf(srcarch: string, config: Record<string, string>): string {
  if (srcarch === 'x86') return config.CONFIG_64BIT === 'y' ? 'x86_64' : 'i386';
  return srcarch;
}

/** Macros clang predefines for the kernel's targets in assembler-with-cpp mode (what matters to scripts). */
function clangPredefines(srcarch: string, cppFlags: string[], config: Record<string, string>): Map<string, string> {
  const d = new Map<string, string>([
    ['__STDC__', '1'],
    ['__ASSEMBLER__', '1'],
    ['__ELF__', '1'],
    ['__clang__', '1'],
    ['__GNUC__', '4'],
    ['__GNUC_MINOR__', '2'],
    ['__GNUC_PATCHLEVEL__', '1'],
    ['__CHAR_BIT__', '8'],
    ['__linux__', '1'],
    ['__linux', '1'],
    ['linux', '1'],
    ['__unix__', '1'],
    ['__unix', '1'],
    ['unix', '1'],
    ['__ORDER_LITTLE_ENDIAN__', '1234'],
    ['__ORDER_BIG_ENDIAN__', '4321'],
  ]);
  const big = cppFlags.includes('-mbig-endian') || config.CONFIG_CPU_BIG_ENDIAN === 'y';
  const wide = config.CONFIG_64BIT === 'y';
  d.set('__BYTE_ORDER__', big ? '__ORDER_BIG_ENDIAN__' : '__ORDER_LITTLE_ENDIAN__');
  if (wide) for (const k of ['__LP64__', '_LP64']) d.set(k, '1');
  d.set('__SIZEOF_LONG__', wide ? '8' : '4');
  d.set('__SIZEOF_POINTER__', wide ? '8' : '4');
  const perArch: Record<string, string[]> = {
    arm64: ['__aarch64__', big ? '__AARCH64EB__' : '__AARCH64EL__'],
    x86: wide ? ['__x86_64__', '__x86_64', '__amd64__', '__amd64'] : ['__i386__', '__i386', 'i386'],
    arm: ['__arm__', big ? '__ARMEB__' : '__ARMEL__'],
    riscv: ['__riscv'],
  };
  for (const k of perArch[srcarch] ?? []) d.set(k, '1');
  return d;
}

/** The arch Makefile's KBUILD_CPPFLAGS words (evaluated with the configuration, never run). */
function archCppFlags(root: string, srcarch: string, config: Record<string, string>): string[] {
  const r = readRegularTextSync(path.join(root, 'arch', srcarch, 'Makefile'), { maxBytes: 1 << 20 });
  if (!r.ok) return [];
  const ev = evaluateMakefile(parseMakefile(r.text), {
    initial: { ...config, srctree: root, objtree: root, SRCARCH: srcarch, KBUILD_CPPFLAGS: '' },
    unknownConditions: 'false',
    undefinedIsEmpty: true,
  });
  return splitWords(ev.expand('$(KBUILD_CPPFLAGS)')).filter(
    (w) => !isUnknownWord(w) && /^(-D|-U|-m(little|big)-endian$)/.test(w),
  );
}

/** CPPFLAGS_<target> of the script's directory Makefile (e.g. the vDSO's `-P -C -U$(ARCH)`). */
function targetCppFlags(root: string, buildDir: string, scriptRel: string, arch: string, srcarch: string): string[] {
  const dir = path.dirname(scriptRel);
  for (const name of ['Kbuild', 'Makefile']) {
    const r = readRegularTextSync(path.join(root, dir, name), { maxBytes: 4 << 20 });
    if (!r.ok) continue;
    const tree = loadKbuildTree(root, buildDir);
    const ev = evaluateInKbuild(parseMakefile(r.text), dir, '', 'false', tree);
    return splitWords(ev.expand(`$(CPPFLAGS_${path.basename(scriptRel)})`, { ARCH: arch, SRCARCH: srcarch })).filter(
      (w) => !isUnknownWord(w),
    );
  }
  return [];
}

export interface CppLdsCommand {
  includeDirs: string[];
  forcedIncludes: string[];
  defines: Map<string, string>;
  undefines: string[];
  keepComments: boolean;
  /** The preprocessor words (-I/-include/-D/-U/-C/-P/-m*-endian, paths absolute) to compare with a recorded command. */
  words: string[];
}

/** What cpp_lds_S passes for `scriptRel` (the .lds, relative to the tree) in this tree and build directory. */
function cppLdsCommand(
  root: string,
  buildDir: string,
  scriptRel: string,
  config: Record<string, string>,
): CppLdsCommand {
  const srcarch = srcArchOf(config, scriptRel) ?? 'arm64';
  const arch = archOf(srcarch, config);
  const outOfTree = path.resolve(buildDir) !== path.resolve(root);
  const s = (p: string): string => path.join(root, p);
  const o = (p: string): string => path.join(buildDir, p);
  const includeDirs = [
    s(`arch/${srcarch}/include`),
    o(`arch/${srcarch}/include/generated`),
    ...(outOfTree ? [s('include')] : []),
    o('include'),
    s(`arch/${srcarch}/include/uapi`),
    o(`arch/${srcarch}/include/generated/uapi`),
    s('include/uapi'),
    o('include/generated/uapi'),
  ];
  const forcedIncludes = ['include/linux/compiler-version.h', 'include/linux/kconfig.h']
    .map(s)
    .filter((f) => readRegularTextSync(f, { maxBytes: 1 << 20 }).ok);
  const flags = [
    '-D__KERNEL__',
    ...archCppFlags(root, srcarch, config),
    ...targetCppFlags(root, buildDir, scriptRel, arch, srcarch),
    '-P',
    `-U${arch}`,
    '-D__ASSEMBLY__',
    '-DLINKER_SCRIPT',
  ];
  const cmd = commandFromWords(flags, buildDir, clangPredefines(srcarch, flags, config));
  cmd.includeDirs.unshift(...includeDirs);
  cmd.forcedIncludes.unshift(...forcedIncludes);
  cmd.words = [...includeDirs.map((d) => `-I${d}`), ...forcedIncludes.map((f) => `-include ${f}`), ...cmd.words];
  return cmd;
}

/** The preprocessor's inputs from command words (a recorded or a computed command). */
function commandFromWords(words: string[], cwd: string, predefines = new Map<string, string>()): CppLdsCommand {
  const cmd: CppLdsCommand = {
    includeDirs: [],
    forcedIncludes: [],
    defines: new Map(predefines),
    undefines: [],
    keepComments: false,
    words: [],
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const arg = (flag: string): string | undefined =>
      w === flag ? words[++i] : w.startsWith(flag) ? w.slice(flag.length) : undefined;
    let v: string | undefined;
    if (w === '-include') {
      const f = path.resolve(cwd, words[++i] ?? '');
      cmd.forcedIncludes.push(f);
      cmd.words.push(`-include ${f}`);
    } else if ((v = arg('-I')) !== undefined) {
      cmd.includeDirs.push(path.resolve(cwd, v));
      cmd.words.push(`-I${path.resolve(cwd, v)}`);
    } else if ((v = arg('-D')) !== undefined) {
      const eq = v.indexOf('=');
      const name = eq < 0 ? v : v.slice(0, eq);
      cmd.defines.set(name, eq < 0 ? '1' : v.slice(eq + 1));
      cmd.undefines = cmd.undefines.filter((u) => u !== name);
      cmd.words.push(`-D${v}`);
    } else if ((v = arg('-U')) !== undefined) {
      cmd.defines.delete(v);
      cmd.undefines.push(v);
      cmd.words.push(`-U${v}`);
    } else if (w === '-C' || w === '-CC') {
      cmd.keepComments = true;
      if (!cmd.words.includes('-C')) cmd.words.push('-C');
    } else if (w === '-P' || w === '-mlittle-endian' || w === '-mbig-endian') {
      if (!cmd.words.includes(w)) cmd.words.push(w);
    }
  }
  return cmd;
}

/** The sorted set of words that decide the preprocessor's output (for comparing two commands). */
function decisiveWords(cmd: CppLdsCommand): string {
  return [...new Set(cmd.words)].sort().join('\n');
}

export interface NextBuildScript {
  text: string;
  from: 'generated' | 'preprocessed';
  /** The last build's generated file exists but is not what the next build uses. */
  stale: boolean;
  incomplete: string[];
  /** Why the generated file is not used (empty when it is). */
  reasons: string[];
}

function readBounded(file: string, cache: Map<string, string | undefined>): string | undefined {
  if (cache.has(file)) return cache.get(file);
  const r = readRegularTextSync(file, { maxBytes: MAX_INCLUDE_BYTES });
  const text = r.ok ? r.text : undefined;
  cache.set(file, text);
  return text;
}

/**
 * Preprocesses `<root>/<scriptRel>.S` as Kbuild would for this build directory; `sourceText`, when
 * given, stands for the `.lds.S` as an edit would leave it.
 */
export function preprocessLdsSource(
  root: string,
  buildDir: string,
  scriptRel: string,
  config?: Record<string, string>,
  sourceText?: string,
): { text: string; incomplete: string[]; command: CppLdsCommand } | undefined {
  const cache = new Map<string, string | undefined>();
  const source = path.join(root, scriptRel + '.S');
  if (sourceText !== undefined) cache.set(source, sourceText);
  const text = readBounded(source, cache);
  if (text === undefined) return undefined;
  const cfg = config ?? readConfig(buildDir, root).config;
  const command = cppLdsCommand(root, buildDir, scriptRel, cfg);
  const r = preprocess({
    file: source,
    text,
    includeDirs: command.includeDirs,
    forcedIncludes: command.forcedIncludes,
    defines: command.defines,
    undefines: command.undefines,
    keepComments: command.keepComments,
    readFile: (f) => readBounded(f, cache),
  });
  return { text: r.text, incomplete: r.incomplete, command };
}

/**
 * The script the NEXT build links with for `scriptRel` (a `.lds` relative to the tree, e.g.
 * arch/arm64/kvm/hyp/nvhe/hyp.lds): the build's own file when make would keep it, else its `.lds.S`
 * preprocessed here. undefined when neither can be read. `editedSource` is the `.lds.S` as an edit
 * would leave it: saved, it is newer than any generated file, so make remakes the script from it.
 */
export function scriptForNextBuild(
  root: string,
  buildDir: string | undefined,
  scriptRel: string,
  editedSource?: string,
): NextBuildScript | undefined {
  // Every edit of a Makefile asks again; the answer changes only with the files read to make it.
  const key = JSON.stringify([root, buildDir ?? null, scriptRel, editedSource ?? null]);
  return nextBuildScripts.get(key, () => computeScriptForNextBuild(root, buildDir, scriptRel, editedSource));
}

/**
 * Shared by every caller in the process: an entry is a pure function of the files it read, checked
 * against their state on each use (fs/readRecord.ts), so two servers can never see each other's state.
 */
const nextBuildScripts = new FileStateMemo<NextBuildScript | undefined>(32);

function computeScriptForNextBuild(
  root: string,
  buildDir: string | undefined,
  scriptRel: string,
  editedSource?: string,
): NextBuildScript | undefined {
  const bdir = buildDir ?? root;
  const { config } = readConfig(bdir, root);
  if (editedSource !== undefined) {
    const pre = preprocessLdsSource(root, bdir, scriptRel, config, editedSource);
    if (!pre) return undefined;
    const reasons = [`${scriptRel}.S is edited, so make remakes ${scriptRel} from it`];
    return { text: pre.text, from: 'preprocessed', stale: true, incomplete: pre.incomplete, reasons };
  }
  const expected = cppLdsCommand(root, bdir, scriptRel, config);
  const check = checkGeneratedFile({
    buildDir: bdir,
    target: scriptRel,
    prerequisites: [path.join(root, scriptRel + '.S')],
    commandMatches: (recorded) =>
      decisiveWords(commandFromWords(recorded, bdir)) === decisiveWords(expected) ||
      'its preprocessor flags differ from what Kbuild passes now',
  });
  if (check.upToDate) {
    const text = readRegularTextSync(path.join(bdir, scriptRel), { maxBytes: 64 << 20 });
    if (text.ok) return { text: text.text, from: 'generated', stale: false, incomplete: [], reasons: [] };
  }
  const pre = preprocessLdsSource(root, bdir, scriptRel, config);
  if (!pre) return undefined;
  const generatedExists = !check.reasons.some((r) => r.includes('does not exist'));
  return {
    text: pre.text,
    from: 'preprocessed',
    stale: generatedExists,
    incomplete: pre.incomplete,
    reasons: check.reasons,
  };
}
