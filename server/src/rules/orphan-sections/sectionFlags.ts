// Which compiler flags make which extra sections in an object: what a link's script must place when
// a flag reaches the object's compile. Checked against clang-19 by test/sectionFlags.test.ts, which
// compiles a small file with each flag and reads the sections back. `<fn>` / `<var>` in a name stand
// for the function's or variable's own name (a per-symbol section).

export interface MadeSection {
  /** The name, or a prefix followed by `<fn>` / `<var>`. */
  name: string;
  /** A concrete name for placement queries when the object is not built yet. */
  example: string;
  /** SHF_EXCLUDE: a final link drops it, `ld -r` keeps it. */
  exclude?: boolean;
  /** SHF_ALLOC: loaded at run time (code, data); without it the section is metadata for tools. */
  alloc?: boolean;
}

export interface SectionFlag {
  /** The option as the compiler command line has it (a prefix match when it ends with `=`). */
  option: string;
  /** Options of the same family: the last of them on the command line decides (clang's rule). */
  family?: string;
  /** Values of `option=` that make no section (e.g. `-fbasic-block-sections=none`). */
  offValues?: string[];
  sections: MadeSection[];
  /** What the flag is for, for messages. */
  what: string;
}

export const SECTION_FLAGS: readonly SectionFlag[] = [
  {
    // A profile's list (Propeller's second build): the listed functions' clusters in sections of
    // their own, no address map. Before the general entry: the first match is the flag's entry.
    option: '-fbasic-block-sections=list=',
    family: 'bb-sections',
    what: "Propeller's basic-block clusters (a profile's list)",
    sections: [{ name: '.text.hot.<fn>', example: '.text.hot.f', alloc: true }],
  },
  {
    option: '-fbasic-block-sections=',
    family: 'bb-sections',
    offValues: ['none'],
    what: "Propeller's basic-block labels",
    sections: [{ name: '.llvm_bb_addr_map', example: '.llvm_bb_addr_map' }],
  },
  {
    option: '-fbasic-block-address-map',
    family: 'bb-address-map',
    what: 'the basic-block address map',
    sections: [{ name: '.llvm_bb_addr_map', example: '.llvm_bb_addr_map' }],
  },
  {
    option: '-fstack-size-section',
    family: 'stack-size',
    what: 'per-function stack sizes',
    sections: [{ name: '.stack_sizes', example: '.stack_sizes' }],
  },
  {
    option: '-ffunction-sections',
    family: 'function-sections',
    what: 'one section per function',
    sections: [{ name: '.text.<fn>', example: '.text.f', alloc: true }],
  },
  {
    option: '-fdata-sections',
    family: 'data-sections',
    what: 'one section per variable',
    sections: [
      { name: '.data.<var>', example: '.data.v', alloc: true },
      { name: '.bss.<var>', example: '.bss.v', alloc: true },
    ],
  },
  {
    option: '-fpatchable-function-entry=',
    family: 'patchable',
    offValues: ['0'],
    what: 'patchable function entries',
    sections: [{ name: '__patchable_function_entries', example: '__patchable_function_entries', alloc: true }],
  },
  {
    option: '-fprofile-instr-generate',
    family: 'instr-generate',
    what: 'instrumentation profiling',
    sections: [
      { name: '__llvm_prf_cnts', example: '__llvm_prf_cnts', alloc: true },
      { name: '__llvm_prf_data', example: '__llvm_prf_data', alloc: true },
      { name: '__llvm_prf_names', example: '__llvm_prf_names', alloc: true },
    ],
  },
  {
    option: '-fcoverage-mapping',
    family: 'coverage-mapping',
    what: 'source coverage mapping',
    sections: [
      { name: '__llvm_covmap', example: '__llvm_covmap' },
      { name: '__llvm_covfun', example: '__llvm_covfun' },
    ],
  },
  {
    option: '-fpseudo-probe-for-profiling',
    family: 'pseudo-probe',
    what: 'pseudo probes for profiling',
    sections: [
      { name: '.pseudo_probe', example: '.pseudo_probe' },
      { name: '.pseudo_probe_desc', example: '.pseudo_probe_desc' },
    ],
  },
  {
    option: '-fprofile-sample-use=',
    family: 'sample-use',
    what: 'a sample profile',
    sections: [{ name: '.llvm.call-graph-profile', example: '.llvm.call-graph-profile', exclude: true }],
  },
];

/** The negations clang knows for a family (the last of enable/negation wins). */
const NEGATIONS: Record<string, string[]> = {
  'bb-address-map': ['-fno-basic-block-address-map'],
  'stack-size': ['-fno-stack-size-section'],
  'function-sections': ['-fno-function-sections'],
  'data-sections': ['-fno-data-sections'],
  'instr-generate': ['-fno-profile-instr-generate'],
  'coverage-mapping': ['-fno-coverage-mapping'],
  'pseudo-probe': ['-fno-pseudo-probe-for-profiling'],
  'sample-use': ['-fno-profile-sample-use'],
};

function entryOf(word: string): SectionFlag | undefined {
  return SECTION_FLAGS.find((f) => (f.option.endsWith('=') ? word.startsWith(f.option) : word === f.option));
}

function isNegation(word: string, family: string): boolean {
  return (NEGATIONS[family] ?? []).includes(word);
}

/** A flag in effect on a compile command, with the sections it makes. */
export interface EffectiveFlag {
  flag: string;
  entry: SectionFlag;
}

/**
 * The section-making flags in effect for a compile's words: per family, the last enabling or
 * negating word decides, as in clang's driver.
 */
export function effectiveSectionFlags(words: readonly string[]): EffectiveFlag[] {
  const last = new Map<string, EffectiveFlag | undefined>();
  for (const w of words) {
    const entry = entryOf(w);
    if (entry) {
      const family = entry.family ?? entry.option;
      const value = entry.option.endsWith('=') ? w.slice(entry.option.length) : '';
      last.set(family, entry.offValues?.includes(value) ? undefined : { flag: w, entry });
      continue;
    }
    for (const family of Object.keys(NEGATIONS)) if (isNegation(w, family)) last.set(family, undefined);
  }
  return [...last.values()].filter((e): e is EffectiveFlag => !!e);
}

/** True when `name` is a section `made` describes. */
export function sectionMatches(made: MadeSection, name: string): boolean {
  const at = made.name.indexOf('<');
  return at < 0 ? name === made.name : name.startsWith(made.name.slice(0, at)) && name.length > at;
}

/** The flags of the table that make a section of this name. */
export function flagsMaking(name: string): SectionFlag[] {
  return SECTION_FLAGS.filter((f) => f.sections.some((s) => sectionMatches(s, name)));
}

/** True when a word on a compile command is one of the table's flags (for reading .cmd files). */
export function isSectionFlagWord(word: string): boolean {
  return !!entryOf(word) || Object.keys(NEGATIONS).some((f) => isNegation(word, f));
}

/** The pattern that removes a flag's spellings in a Kbuild remove list (filter-out words). */
export function removalPattern(flag: string): string {
  const entry = entryOf(flag);
  if (!entry) return flag;
  return entry.option.endsWith('=') ? `${entry.option}%` : entry.option;
}
