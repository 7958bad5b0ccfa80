// The real linker as the oracle for input-section placement: runs `ld.lld-19 ... -Map` and reads
// where each `object:(section)` went. A second link with the script's `/DISCARD/` renamed tells a
// section the script discards (it then shows up under the renamed output) from one the linker
// drops by itself (absent from both maps). Orphans are those ld.lld reports with
// --orphan-handling=warn ("is being placed in").
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SectionInfo } from '../../server/src/lspExt';

export type Outcome = string; // 'output:X' | 'orphan:X' | 'discard' | 'dropped'

const RENAMED = '.kbd_oracle_discard';

/** Input sections of a -Map file: `object\0section` -> output sections, in order. */
export function parseMap(text: string, internal = new Map<string, string[]>()): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const line of text.split('\n')) {
    const m = /^\s*[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+\d+ (.*)$/.exec(line);
    if (!m) continue;
    const rest = m[1];
    if (!rest.startsWith(' ')) current = rest.trim();
    else if (/^ {8}\S/.test(rest)) {
      // `.eh_frame+0x14`: ld.lld lists .eh_frame by its pieces.
      const im = /^(.*):\((.*?)(?:\+0x[0-9a-f]+)?\)$/.exec(rest.trim());
      if (im && im[1] === '<internal>') internal.set(im[2], [...(internal.get(im[2]) ?? []), current]);
      if (!im || im[1] === '<internal>') continue;
      const key = `${im[1]}\0${im[2]}`;
      out.set(key, [...(out.get(key) ?? []), current]);
    }
  }
  return out;
}

interface Linked {
  map: Map<string, string[]>;
  orphans: Set<string>;
  /** Synthetic sections by name -> their outputs: merged (SHF_MERGE) input sections show only as these. */
  internal: Map<string, string[]>;
}

function link(cwd: string, args: string[], scriptArg: number, scriptText: string, dir: string, tag: string): Linked {
  const script = join(dir, `${tag}.lds`);
  writeFileSync(script, scriptText);
  const a = [...args];
  a[scriptArg] = script;
  const mapFile = join(dir, `${tag}.map`);
  const r = spawnSync(
    'ld.lld-19',
    [...a, '-o', join(dir, `${tag}.out`), '-Map', mapFile, '--orphan-handling=warn', '--error-limit=0'],
    { cwd, encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  const orphans = new Set<string>();
  for (const m of r.stderr.matchAll(/warning: (.*):\((.*)\) is being placed in '(.*)'/g))
    orphans.add(`${m[1]}\0${m[2]}`);
  let mapText: string;
  try {
    mapText = readFileSync(mapFile, 'utf8');
  } catch {
    throw new Error(`ld.lld-19 wrote no map (status ${r.status}):\n${r.stderr.slice(0, 4000)}`);
  }
  const internal = new Map<string, string[]>();
  return { map: parseMap(mapText, internal), orphans, internal };
}

/**
 * Where ld.lld-19 puts each input section. `args` is the link's argument list without `-o`;
 * `scriptArg` is the index of the script's path in it. Keys: `object\0section`, values: outcomes
 * (one per section of that name in the object), sorted.
 */
export interface Oracle {
  placed: Map<string, Outcome[]>;
  /** Merged sections: listed by name only (`<internal>:(name)`), with the outputs that hold them. */
  internal: Map<string, string[]>;
  orphans: Set<string>;
  /** Merged sections (by name) that the link with /DISCARD/ renamed shows under the renamed output: discarded. */
  discardedInternal: Set<string>;
}

export function oraclePlacements(cwd: string, args: string[], scriptArg: number): Oracle {
  const dir = mkdtempSync(join(tmpdir(), 'kbd-link-oracle-'));
  try {
    const text = readFileSync(join(cwd, args[scriptArg]), 'utf8');
    const real = link(cwd, args, scriptArg, text, dir, 'real');
    const renamed = link(cwd, args, scriptArg, text.split('/DISCARD/').join(RENAMED), dir, 'renamed');
    const out = new Map<string, Outcome[]>();
    for (const [key, outputs] of real.map)
      out.set(
        key,
        outputs.map((o) => (real.orphans.has(key) ? `orphan:${o}` : `output:${o}`)),
      );
    for (const [key, outputs] of renamed.map) {
      const n = outputs.filter((o) => o === RENAMED).length;
      if (n > 0) out.set(key, [...(out.get(key) ?? []), ...Array(n).fill('discard')]);
    }
    for (const v of out.values()) v.sort();
    const discardedInternal = new Set(
      [...renamed.internal].filter(([, outs]) => outs.includes(RENAMED)).map(([name]) => name),
    );
    return { placed: out, internal: real.internal, orphans: real.orphans, discardedInternal };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A link's arguments from the first command of its Kbuild .cmd text, without the program and `-o OUT`. */
export function linkArgsOfCmd(words: readonly string[]): string[] {
  const o = words.indexOf('-o');
  return words.slice(1).filter((_, i) => i + 1 !== o && i + 1 !== o + 1);
}

/**
 * What differs between ld.lld's placements (the oracle) and ours for the sections of one object:
 * `mine` maps `object\0section` to outcomes (sorted); a merged section that the map lists only as
 * `<internal>:(name)` agrees when its output does. Empty when every section agrees.
 */
export function placementDifferences(oracle: Oracle, object: string, mine: Map<string, Outcome[]>): string[] {
  const show = (k: string): string => k.replace('\0', ':(') + ')';
  const stem = (n: string): string => n.replace(/\d+\.\d+$/, '');
  const wrong: string[] = [];
  for (const [k, v] of mine) {
    const got = oracle.placed.get(k);
    if (got === undefined) {
      const section = k.slice(k.indexOf('\0') + 1);
      const outs = [...oracle.internal].filter(([n]) => stem(n) === stem(section)).flatMap(([, o]) => o);
      const kind = oracle.orphans.has(k) ? 'orphan' : 'output';
      if (v.every((o) => outs.some((x) => o === `${kind}:${x}`))) continue;
      const discarded = [...oracle.discardedInternal].some((n) => stem(n) === stem(section));
      if (discarded && v.every((o) => o === 'discard')) continue;
    }
    if (JSON.stringify(got ?? []) !== JSON.stringify(v))
      wrong.push(`${show(k)}: ours ${v.join(',')}, ld.lld ${(got ?? ['(not placed)']).join(',')}`);
  }
  for (const [k, v] of oracle.placed)
    if (k.startsWith(`${object}\0`) && !mine.has(k)) wrong.push(`${show(k)}: ld.lld ${v.join(',')}, ours (nothing)`);
  return wrong;
}

/** The explorer's destinations of one object's sections in `link`, written as the oracle writes them. */
export function destinationsIn(object: string, sections: SectionInfo[], link: string): Map<string, Outcome[]> {
  const out = new Map<string, Outcome[]>();
  for (const s of sections) {
    const d = s.destinations?.find((x) => x.link === link);
    if (!d || d.kind === 'dropped') continue;
    const o = d.kind === 'output' ? `output:${d.output}` : d.kind === 'orphan' ? `orphan:${d.output}` : d.kind;
    const key = `${object}\0${s.name}`;
    out.set(key, [...(out.get(key) ?? []), o].sort());
  }
  return out;
}
