// Where the links of a build put the sections of their input objects: the links a Makefile's rules
// run (any linker command with `-o`: its script, inputs, `-r` and `--orphan-handling=`), the script
// the next build links with (ldsSource.ts: the build's own .lds when make would keep it, else the
// .lds.S preprocessed as Kbuild does), and the placement of an object's ELF sections in it
// (lds/placement.ts, checked against `ld.lld -Map`). Knows no rule; runs nothing.
import * as path from 'node:path';
import { isUnknownWord } from '../make/values';
import { SHT_REL, SHT_RELA, type ElfSection } from '../elf/types';
import { placeSection, type InputSection, type Placement } from '../lds/placement';
import { parseLinkerScript, type LinkerScript } from '../lds/script';
import { readRegularTextSync } from '../fs/safeRead';
import { scriptForNextBuild } from './ldsSource';
import { linkerOutput, linkerScriptOf, normalizePath, type MakeRule } from './recipes';
import { isLinker } from './shellCommands';

export type OrphanHandling = 'warn' | 'error' | 'place' | 'unknown';

/** A link the build runs, as its Makefile says; paths relative to the build directory. */
export interface BuildLink {
  /** The file the link writes. */
  output: string;
  /** The linker script (-T), as the link names it (a generated `.lds` or a plain script); absent: none. */
  script?: string;
  /** Input objects, in command-line order. */
  inputs: readonly string[];
  /** `ld -r`: orphans keep their names. */
  relocatable: boolean;
  /** The link's `--orphan-handling=`, when it passes one. */
  orphanHandling?: OrphanHandling;
}

const MAX_SCRIPT_BYTES = 64 << 20;

function isInputWord(w: string): boolean {
  return !isUnknownWord(w) && !w.startsWith('-') && /\.(o|a)$/.test(w);
}

/** Every link the rules run: each linker command that names its output. */
export function linksOfRules(rules: readonly MakeRule[]): BuildLink[] {
  const out: BuildLink[] = [];
  for (const rule of rules) {
    for (const c of rule.commands) {
      if (!isLinker(c.program)) continue;
      const o = linkerOutput(c);
      if (!o || isUnknownWord(o)) continue;
      const output = normalizePath(o);
      const script = linkerScriptOf(c);
      const orphan = c.args.map((a) => /^(?:-Wl,)?--orphan-handling=(.*)$/.exec(a)?.[1]).find((v) => v !== undefined);
      out.push({
        output,
        ...(script && !isUnknownWord(script) ? { script: normalizePath(script) } : {}),
        inputs: [...new Set(c.args.filter((w) => isInputWord(w) && normalizePath(w) !== output).map(normalizePath))],
        relocatable: c.args.includes('-r') || c.args.includes('--relocatable'),
        ...(orphan !== undefined ? { orphanHandling: orphanHandlingOf(orphan) } : {}),
      });
    }
  }
  return out;
}

function orphanHandlingOf(word: string): OrphanHandling {
  return word === 'warn' || word === 'error' || word === 'place' ? word : 'unknown';
}

/** A link's script as the next build reads it, parsed; or why it could not be read. */
export type LinkScript =
  | { ok: true; script: LinkerScript; file: string; from: 'generated' | 'preprocessed' | 'plain' | 'none' }
  | { ok: false; problem: string };

const NO_SCRIPT = parseLinkerScript('');

/** The script of `link` the next build uses, from the tree `root` and the build directory `buildDir`. */
export function linkScript(root: string, buildDir: string, link: BuildLink): LinkScript {
  if (!link.script) return { ok: true, script: NO_SCRIPT, file: '', from: 'none' };
  const next = scriptForNextBuild(root, buildDir, link.script);
  if (next) {
    const file = next.from === 'generated' ? path.join(buildDir, link.script) : path.join(root, `${link.script}.S`);
    return { ok: true, script: parseLinkerScript(next.text), file, from: next.from };
  }
  for (const file of [path.join(buildDir, link.script), path.join(root, link.script)]) {
    const r = readRegularTextSync(file, { maxBytes: MAX_SCRIPT_BYTES });
    if (r.ok) return { ok: true, script: parseLinkerScript(r.text), file, from: 'plain' };
  }
  return { ok: false, problem: `${link.script}: neither the script nor ${link.script}.S could be read` };
}

function asInput(s: ElfSection): InputSection {
  return { name: s.name, type: s.type, flags: Number(s.flags & 0xffffffffn) >>> 0 };
}

/**
 * Where each section of one ELF object goes (index -> placement; the null section left out). With
 * no SECTIONS in the script every section is placed by the linker's own naming: `orphan` here
 * means only "no description matched", which the caller reads together with `hasSections`.
 */
export function placeElfSections(
  script: LinkerScript,
  object: string,
  sections: readonly ElfSection[],
  relocatable: boolean,
): Map<number, Placement> {
  const out = new Map<number, Placement>();
  for (const s of sections) {
    if (s.index === 0) continue;
    const input = asInput(s);
    if ((s.type === SHT_REL || s.type === SHT_RELA) && sections[s.info]) input.relocates = asInput(sections[s.info]);
    out.set(s.index, placeSection(script, object, input, { relocatable }));
  }
  return out;
}
