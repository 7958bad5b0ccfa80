// What clang's driver does with profile-use options: which spellings turn a profile on, which
// turn it off, and which one wins when several are given (the last one of a family wins).
// Source: clang's Options.td and Driver/ToolChains/Clang.cpp (getLastProfileSampleUseArg,
// getLastProfileUseArg). -fauto-profile[=] is an alias of -fprofile-sample-use[=]; -fprofile-use[=]
// is an alias of -fprofile-instr-use[=]; bare -fprofile-sample-use names no file and enables nothing
// by itself (llvm-project issue 112391), bare -fprofile-use reads default.profdata.

export type ProfileFamily = 'sample' | 'instr';

interface Spelling {
  family: ProfileFamily;
  /** The option without `=`; `joined` spellings take `=value`. */
  name: string;
  joined: boolean;
  /** Turns a profile off (a negation). */
  negates: boolean;
  /** Names a profile by itself (false for bare -fprofile-sample-use, which needs `=FILE`). */
  enables: boolean;
}

const SPELLINGS: Spelling[] = [
  { family: 'sample', name: '-fprofile-sample-use', joined: true, negates: false, enables: true },
  { family: 'sample', name: '-fauto-profile', joined: true, negates: false, enables: true },
  { family: 'sample', name: '-fprofile-sample-use', joined: false, negates: false, enables: false },
  { family: 'sample', name: '-fauto-profile', joined: false, negates: false, enables: false },
  { family: 'sample', name: '-fno-profile-sample-use', joined: false, negates: true, enables: false },
  { family: 'sample', name: '-fno-auto-profile', joined: false, negates: true, enables: false },
  { family: 'instr', name: '-fprofile-instr-use', joined: true, negates: false, enables: true },
  { family: 'instr', name: '-fprofile-use', joined: true, negates: false, enables: true },
  { family: 'instr', name: '-fprofile-instr-use', joined: false, negates: false, enables: true },
  { family: 'instr', name: '-fprofile-use', joined: false, negates: false, enables: true },
  { family: 'instr', name: '-fno-profile-instr-use', joined: false, negates: true, enables: false },
  { family: 'instr', name: '-fno-profile-use', joined: false, negates: true, enables: false },
];

function classify(word: string): Spelling | undefined {
  for (const s of SPELLINGS) {
    if (s.joined ? word.startsWith(s.name + '=') && word.length > s.name.length + 1 : word === s.name) return s;
  }
  return undefined;
}

/** True for any profile-use related option (enabling or negating), e.g. to explain a Makefile line. */
export function isProfileUseOption(word: string): boolean {
  return classify(word) !== undefined;
}

/**
 * The profile-use options in effect for a compiler command line, after clang's last-one-wins rule:
 * at most one per family. Each entry is the word that makes the profile active.
 */
export function effectiveProfileUse(words: readonly string[]): { family: ProfileFamily; flag: string }[] {
  const result: { family: ProfileFamily; flag: string }[] = [];
  for (const family of ['sample', 'instr'] as const) {
    let lastAny: Spelling | undefined;
    let lastEnabling: string | undefined;
    for (const w of words) {
      const s = classify(w);
      if (!s || s.family !== family) continue;
      lastAny = s;
      if (s.enables) lastEnabling = w;
    }
    if (lastAny && !lastAny.negates && lastEnabling) result.push({ family, flag: lastEnabling });
  }
  return result;
}

/**
 * Which of `candidates` (enabling spellings put into the flags on purpose) still turn a profile on in
 * a command line: the word is there and no negation of its family comes after it.
 */
export function survivingSpellings(words: readonly string[], candidates: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of candidates) {
    const at = words.lastIndexOf(c);
    const s = classify(c);
    if (at < 0 || !s) continue;
    const negatedLater = words.slice(at + 1).some((w) => {
      const n = classify(w);
      return n !== undefined && n.negates && n.family === s.family;
    });
    if (!negatedLater) out.push(c);
  }
  return out;
}

/**
 * Representative values of every enabling spelling, used to test whether a Makefile lets each one
 * through. PATH is a placeholder file name.
 */
export function enablingSpellings(path = '/tmp/kernel.prof'): string[] {
  return SPELLINGS.filter((s) => s.enables).map((s) => (s.joined ? `${s.name}=${path}` : s.name));
}

/**
 * The spellings upstream's fix filters (bde971a83bbf): the ones kernel builds use. The others are
 * aliases clang also accepts; a Makefile that lets only those through gets a hint, not a warning.
 */
export function isCanonicalSpelling(flag: string): boolean {
  return flag.startsWith('-fprofile-sample-use=') || flag.startsWith('-fprofile-use=');
}

/** filter-out patterns that remove every enabling spelling. */
export const ALL_PROFILE_USE_PATTERNS = [
  '-fprofile-sample-use=%',
  '-fauto-profile=%',
  '-fprofile-use=%',
  '-fprofile-use',
  '-fprofile-instr-use=%',
  '-fprofile-instr-use',
];
