// Which compiler options a build's compiler accepts, the way Kbuild's cc-option asks it (try-run:
// `$(CC) -Werror <option> -c -x c /dev/null`): a table by option, compiler, version and arch, so a
// probe is answered without running anything. test/unit/compilerOptions.test.ts checks every row
// against the real clang-19 for arm64 and x86 the way try-run does; the versions before 19 come from
// clang's release notes and are used only where a row names one. An option the table does not hold,
// another compiler, or a version or arch the table cannot speak for has no answer (undefined): the
// caller then weighs both outcomes.
import { majorOf, type Toolchain } from './toolchain';

export type OptionGroup = 'profile' | 'section-layout' | 'sanitizer' | 'instrumentation' | 'code-generation';

/** What a value-taking option needs to be accepted (try-run fails when the file is not what it expects). */
export type OptionValue = 'sample-profile' | 'instr-profile' | 'file';

export interface ClangSupport {
  /** First clang major that accepts it (OLD: every clang the kernel supports); undefined: known for clang 19 only. */
  since?: number;
  /** Arches (Kbuild SRCARCH) where clang 19 accepts it, of TESTED_ARCHES; absent: all of them. */
  arches?: readonly string[];
  /** Options without which clang rejects it (on every arch, or on the arches named). */
  needs?: { flags: readonly string[]; arches?: readonly string[] };
}

export interface OptionRow {
  /** The spelling cc-option passes; ends with `=` for value-taking options matched by prefix (`value` set). */
  option: string;
  group: OptionGroup;
  /** clang's support; null: clang 19 rejects it on every tested arch (a GCC option, or an unused one). */
  clang: ClangSupport | null;
  /** The option names a file: accepted only when the file is a valid one (no static answer). */
  value?: OptionValue;
}

/** Every clang release the kernels this product reads accept (Linux 5.10 needs clang 10.0.1 or later). */
export const OLD = 10;
/** The clang the table was checked against (test/unit/compilerOptions.test.ts). */
export const VERIFIED_CLANG_MAJOR = 19;
/** Arches the table was checked for, as Kbuild SRCARCH names with the clang target used. */
export const TESTED_ARCHES: Readonly<Record<string, string>> = { arm64: 'aarch64-linux-gnu', x86: 'x86_64-linux-gnu' };

const old: ClangSupport = { since: OLD };
const row = (group: OptionGroup, clang: ClangSupport | null, ...options: string[]): OptionRow[] =>
  options.map((option) => ({ option, group, clang }));
const fileRow = (group: OptionGroup, value: OptionValue, ...options: string[]): OptionRow[] =>
  options.map((option) => ({ option, group, clang: old, value }));

export const OPTION_TABLE: readonly OptionRow[] = [
  // Profile use, generation and accuracy.
  ...fileRow('profile', 'sample-profile', '-fprofile-sample-use=', '-fauto-profile='),
  ...fileRow('profile', 'instr-profile', '-fprofile-instr-use=', '-fprofile-use='),
  // Bare -fprofile-use / -fprofile-instr-use read default.profdata in the working directory.
  ...fileRow('profile', 'instr-profile', '-fprofile-use', '-fprofile-instr-use'),
  ...fileRow('profile', 'file', '-fprofile-list='),
  ...row('profile', old, '-fprofile-sample-use', '-fauto-profile', '-fno-profile-sample-use', '-fno-auto-profile'),
  ...row('profile', old, '-fno-profile-instr-use', '-fno-profile-use'),
  ...row(
    'profile',
    old,
    '-fprofile-instr-generate',
    '-fprofile-instr-generate=/tmp/kbd.profraw',
    '-fno-profile-instr-generate',
  ),
  ...row(
    'profile',
    old,
    '-fprofile-generate',
    '-fprofile-generate=/tmp',
    '-fno-profile-generate',
    '-fcs-profile-generate',
    '-fcs-profile-generate=/tmp',
  ),
  ...row(
    'profile',
    old,
    '-fprofile-sample-accurate',
    '-fno-profile-sample-accurate',
    '-fauto-profile-accurate',
    '-fno-auto-profile-accurate',
  ),
  ...row(
    'profile',
    old,
    '-fdebug-info-for-profiling',
    '-fno-debug-info-for-profiling',
    '-fprofile-arcs',
    '-fno-profile-arcs',
    '-ftest-coverage',
    '-fno-test-coverage',
  ),
  ...row('profile', { since: 12 }, '-fpseudo-probe-for-profiling', '-fno-pseudo-probe-for-profiling'),
  ...row('profile', {}, '-fprofile-update=atomic', '-fprofile-update=single', '-fprofile-update=prefer-atomic'),
  ...row('profile', old, '-fno-coverage-mapping'),
  ...row('profile', { since: OLD, needs: { flags: ['-fprofile-instr-generate'] } }, '-fcoverage-mapping'),
  // GCC's profile options: clang rejects them under -Werror (unknown, or "not supported").
  ...row(
    'profile',
    null,
    '-fprofile-correction',
    '-fprofile-values',
    '-fprofile-reorder-functions',
    '-fprofile-partial-training',
    '-fbranch-probabilities',
    '-fprofile-dir=/tmp',
  ),

  // Section layout.
  ...row(
    'section-layout',
    old,
    '-ffunction-sections',
    '-fno-function-sections',
    '-fdata-sections',
    '-fno-data-sections',
  ),
  ...row(
    'section-layout',
    old,
    '-funique-section-names',
    '-fno-unique-section-names',
    '-fstack-size-section',
    '-fno-stack-size-section',
    '-fcommon',
    '-fno-common',
  ),
  ...row(
    'section-layout',
    { since: 12 },
    '-fbasic-block-sections=labels',
    '-fbasic-block-sections=none',
    '-fsplit-machine-functions',
    '-fno-split-machine-functions',
  ),
  ...row(
    'section-layout',
    { since: 12 },
    '-funique-basic-block-section-names',
    '-fno-unique-basic-block-section-names',
  ),
  ...row('section-layout', { since: 12, arches: ['x86'] }, '-fbasic-block-sections=all'),
  ...row(
    'section-layout',
    {},
    '-fbasic-block-address-map',
    '-fno-basic-block-address-map',
    '-funique-internal-linkage-names',
    '-fno-unique-internal-linkage-names',
  ),
  ...row('section-layout', {}, '-fzero-initialized-in-bss', '-fno-zero-initialized-in-bss'),
  ...row('section-layout', null, '-freorder-blocks-and-partition', '-fno-reorder-blocks-and-partition'),

  // Sanitizers.
  ...row(
    'sanitizer',
    old,
    '-fsanitize=address',
    '-fsanitize=kernel-address',
    '-fsanitize=hwaddress',
    '-fsanitize=kernel-hwaddress',
  ),
  ...row(
    'sanitizer',
    old,
    '-fsanitize=thread',
    '-fsanitize=memory',
    '-fsanitize=undefined',
    '-fsanitize=bounds',
    '-fsanitize=array-bounds',
  ),
  ...row(
    'sanitizer',
    old,
    '-fsanitize=shift',
    '-fsanitize=integer-divide-by-zero',
    '-fsanitize=unreachable',
    '-fsanitize=signed-integer-overflow',
  ),
  ...row(
    'sanitizer',
    old,
    '-fsanitize=unsigned-integer-overflow',
    '-fsanitize=object-size',
    '-fsanitize=bool',
    '-fsanitize=enum',
    '-fsanitize=alignment',
  ),
  ...row(
    'sanitizer',
    old,
    '-fsanitize=null',
    '-fsanitize=return',
    '-fsanitize=vla-bound',
    '-fsanitize=pointer-overflow',
    '-fsanitize=implicit-conversion',
  ),
  ...row('sanitizer', old, '-fsanitize=safe-stack', '-fsanitize=leak', '-fsanitize=dataflow', '-fno-sanitize=all'),
  ...row('sanitizer', {}, '-fsanitize=local-bounds', '-fsanitize=function'),
  ...row('sanitizer', { since: OLD, arches: ['x86'] }, '-fsanitize=kernel-memory'),
  ...row('sanitizer', { since: 16 }, '-fsanitize=kcfi'),
  ...row(
    'sanitizer',
    { since: OLD, needs: { flags: ['-ffixed-x18'], arches: ['arm64'] } },
    '-fsanitize=shadow-call-stack',
  ),
  ...row(
    'sanitizer',
    old,
    '-fsanitize-coverage=trace-pc',
    '-fsanitize-coverage=trace-cmp',
    '-fsanitize-coverage=trace-pc-guard',
    '-fsanitize-coverage=inline-8bit-counters',
  ),
  ...row(
    'sanitizer',
    old,
    '-fsanitize-recover=all',
    '-fno-sanitize-recover=all',
    '-fsanitize-trap=all',
    '-fsanitize-undefined-trap-on-error',
    '-fsanitize-cfi-cross-dso',
  ),
  // Accepted only with a sanitizer that uses them (try-run alone: "argument unused").
  ...row('sanitizer', null, '-fsanitize-address-use-after-scope', '-fno-sanitize-address-use-after-scope'),
  // clang 21's (not in 19).
  ...row('sanitizer', null, '-fsanitize-kcfi-arity'),

  // Instrumentation: tracing hooks, coverage, hardening that inserts code.
  ...row(
    'instrumentation',
    old,
    '-pg',
    '-finstrument-functions',
    '-finstrument-functions-after-inlining',
    '-finstrument-function-entry-bare',
  ),
  ...row('instrumentation', old, '-fpatchable-function-entry=2', '-fxray-instrument'),
  ...row('instrumentation', {}, '-fpatchable-function-entry=4,2'),
  ...row('instrumentation', { since: OLD, arches: ['x86'] }, '-mfentry', '-mretpoline'),
  ...row('instrumentation', null, '-mrecord-mcount', '-mnop-mcount', '-mindirect-branch=thunk-extern'),
  ...row(
    'instrumentation',
    old,
    '-fstack-protector',
    '-fstack-protector-strong',
    '-fstack-protector-all',
    '-fno-stack-protector',
  ),
  ...row('instrumentation', { since: 11 }, '-fstack-clash-protection'),
  ...row('instrumentation', { since: OLD, arches: ['x86'] }, '-fcf-protection=branch'),
  ...row('instrumentation', old, '-fcf-protection=none'),
  ...row(
    'instrumentation',
    { since: OLD, arches: ['arm64'] },
    '-mbranch-protection=standard',
    '-mbranch-protection=none',
  ),
  ...row('instrumentation', { since: 16, arches: ['x86'] }, '-mfunction-return=thunk-extern'),
  ...row('instrumentation', { since: 15 }, '-fzero-call-used-regs=used-gpr'),
  ...row('instrumentation', { since: 16 }, '-ftrivial-auto-var-init=zero'),
  ...row('instrumentation', old, '-ftrivial-auto-var-init=pattern'),
  ...row('instrumentation', {}, '-mharden-sls=all'),
  ...row('code-generation', old, '-fno-omit-frame-pointer', '-fomit-frame-pointer', '-mno-omit-leaf-frame-pointer'),
];

const exact = new Map<string, OptionRow>();
const prefixed: OptionRow[] = [];
for (const r of OPTION_TABLE) {
  if (r.value && r.option.endsWith('=')) prefixed.push(r);
  else exact.set(r.option, r);
}

/** The table's row for an option as a probe passes it (`-fprofile-sample-use=/p.prof` matches `-fprofile-sample-use=`). */
export function optionRow(option: string): OptionRow | undefined {
  return exact.get(option) ?? prefixed.find((r) => option.startsWith(r.option) && option.length > r.option.length);
}

/** What clang 19 does with a row on `arch`, from the table (needs: accepted only with those flags). */
function clang19Accepts(r: OptionRow, arch: string): boolean | 'needs' {
  if (!r.clang) return false;
  if (r.clang.arches && !r.clang.arches.includes(arch)) return false;
  const needs = r.clang.needs;
  if (needs && (!needs.arches || needs.arches.includes(arch))) return 'needs';
  return true;
}

/**
 * Whether the toolchain's compiler accepts `option` alone (cc-option's question, the build's other flags
 * aside); undefined when the table cannot say (the caller weighs both outcomes).
 */
export function compilerAccepts(t: Toolchain, option: string): boolean | undefined {
  if (t.compiler !== 'clang') return undefined;
  const r = optionRow(option);
  if (!r || r.value || t.arch === undefined || !(t.arch in TESTED_ARCHES)) return undefined;
  const at19 = clang19Accepts(r, t.arch);
  if (at19 === 'needs') return undefined;
  const major = t.compilerMajor ?? majorOf(t.compilerVersion);
  if (major === VERIFIED_CLANG_MAJOR) return at19;
  // Other versions: an accepted option with a known first version; options are not removed later.
  if (!at19 || r.clang?.since === undefined) return undefined;
  if (major === undefined) return r.clang.since <= OLD ? true : undefined;
  return major >= r.clang.since;
}
