// Rule orphan-sections: which input sections of a kernel link the linker script does not place, in
// the links that report orphans (`--orphan-handling=warn|error`). Explanation: explanation.md.
// The evidence is the build's objects when they are there (their real sections); otherwise the
// flags that reach each object (from its .cmd file: the last build's command line, KCFLAGS included;
// and from the tree's own Kbuild), through the flag -> sections table. A section found in an object
// whose making flag the Makefile no longer passes is stale evidence, never an error.
import * as path from 'node:path';
import type { Span } from '../../make/ast';
import type { Makefile } from '../../make/ast';
import { compileFlags, evaluateInKbuild } from '../../kbuild/compileFlags';
import { otherArchDirectory } from '../../kbuild/kbuildTree';
import { pulledMembers } from '../../kbuild/archiveMembers';
import type { Evaluation } from '../../make/evaluator';
import { SHT_REL, SHT_RELA } from '../../elf/types';
import { statSafeSync } from '../../fs/safeRead';
import { parseLinkerScript, type LinkerScript } from '../../lds/script';
import { placeSection, type InputSection } from '../../lds/placement';
import type { BuildAccess, MakefileContext } from '../rule';
import { findOrphanLinks, type OrphanLink } from './links';
import { linkedFiles, onDemandNote, type LinkedFile } from './linkedFiles';
import { scriptLinks } from './scriptLinks';
import { effectiveSectionFlags, flagsMaking, isSectionFlagWord, type EffectiveFlag } from './sectionFlags';
import { scriptForLink, type ScriptText } from './scriptSource';

const SHF_ALLOC = 0x2n;

export const RULE_CODE = 'orphan-sections';
export const STALE_CODE = 'orphan-sections-stale';

/** Most input objects of one link that are read. */
const MAX_OBJECTS = 400;
/** Most input objects of a link whose objects other directories compile (vmlinux: every built-in object). */
const MAX_MEMBERS = 60000;

export interface FlagEvidence {
  flag: string;
  /** The .cmd file and the word's span there, when the flag was read from the last build. */
  cmdFile?: string;
  span?: Span;
}

export interface OrphanFinding {
  /** As the linker names it: the input path relative to the build directory, `archive(member)` for a member. */
  object: string;
  /** The object file relative to the build directory, when not `object` itself (an archive member). */
  file?: string;
  section: string;
  /** The output section ld.lld makes for the orphan. */
  output: string;
  /** 'object': read from the built object; 'flags': predicted from the flags that reach it. */
  from: 'object' | 'flags';
  /** The flags that make the section, as they reach (or reached) the object's compile. */
  flags: FlagEvidence[];
  /** The object was built with a flag the Makefile no longer passes to it. */
  stale: boolean;
  /** SHF_ALLOC: the section is loaded at run time (code, data), not metadata for tools. */
  alloc: boolean;
}

export interface LinkVerdict {
  link: OrphanLink;
  script?: ScriptText;
  findings: OrphanFinding[];
}

export interface OrphanVerdict {
  links: LinkVerdict[];
  buildDir?: string;
  incomplete: string[];
}

interface Eval {
  ev: Evaluation;
  mode: 'false' | 'true';
}

function evaluations(ctx: MakefileContext, makefile: Makefile, extra: string): Eval[] {
  const first = evaluateInKbuild(makefile, ctx.objDir, extra, 'false', ctx.tree, ctx.surroundings);
  const out: Eval[] = [{ ev: first, mode: 'false' }];
  if (first.unknownConditionals.length > 0)
    out.push({ ev: evaluateInKbuild(makefile, ctx.objDir, extra, 'true', ctx.tree, ctx.surroundings), mode: 'true' });
  return out;
}

/** The links of the Makefile that report orphans (from the first reading that has any). */
export function orphanLinks(
  ctx: MakefileContext,
  makefile = ctx.makefile,
): { links: OrphanLink[]; ev?: Evaluation; mode: 'false' | 'true'; cut?: string; notes: string[] } {
  // The links the top Makefile hands to a script (vmlinux), read from the top Makefile alone.
  const viaScript = scriptLinks({ ...ctx, makefile });
  const notes = viaScript.incomplete;
  for (const { ev, mode } of evaluations(ctx, makefile, '')) {
    const links = findOrphanLinks(makefile, ev);
    if (links.length > 0) return { links: [...links, ...viaScript.links], ev, mode, notes };
    if (ev.incomplete && viaScript.links.length === 0) return { links: [], mode, cut: ev.incomplete.message, notes };
  }
  return { links: viaScript.links, mode: 'false', notes };
}

/** The object's Kbuild target stem relative to the Makefile's directory (vgettimeofday for .../vdso/vgettimeofday.o). */
function stemOf(object: string, objDir: string): string {
  const rel = objDir !== '.' && object.startsWith(objDir + '/') ? object.slice(objDir.length + 1) : object;
  return rel.replace(/\.o$/, '');
}

/** The section-making flags recorded in an object's .cmd file (the last build's compile). */
async function recordedFlags(
  build: BuildAccess | undefined,
  object: string,
  incomplete: string[],
): Promise<FlagEvidence[] | undefined> {
  if (!build) return undefined;
  const cmdFile = path.join(build.buildDir, path.dirname(object), `.${path.basename(object)}.cmd`);
  const read = await build.reader.readCmdFile(cmdFile);
  if (!read.ok) {
    if (read.reason !== 'unreadable' || !/no such file|missing|not found|ENOENT/i.test(read.message))
      incomplete.push(read.message);
    return undefined;
  }
  if (read.incomplete) incomplete.push(read.incomplete.message);
  const out: FlagEvidence[] = [];
  for (const record of read.records) {
    for (const c of record.commands) {
      const texts = c.words.map((w) => w.text);
      for (const eff of effectiveSectionFlags(texts.filter(isSectionFlagWord)))
        out.push({ flag: eff.flag, cmdFile, span: c.words[texts.lastIndexOf(eff.flag)].span });
    }
  }
  return out;
}

/** What the next build passes to the object: the recorded command-line flags run through the Makefile now. */
function flagsNow(
  ctx: MakefileContext,
  makefile: Makefile,
  object: string,
  recorded: FlagEvidence[],
  cache: Map<string, EffectiveFlag[]>,
): EffectiveFlag[] {
  const extra = recorded.map((f) => f.flag).join(' ');
  const stem = stemOf(object, ctx.objDir);
  const key = `${extra}\0${stem}`;
  let hit = cache.get(key);
  if (!hit) {
    const seen = new Map<string, EffectiveFlag>();
    for (const { ev } of evaluations(ctx, makefile, extra))
      for (const e of effectiveSectionFlags(compileFlags(ev, stem, ctx.objDir))) seen.set(e.flag, e);
    hit = [...seen.values()];
    cache.set(key, hit);
  }
  return hit;
}

/** How a finding names its input: as ld.lld does, and the object's own path when that differs. */
function named(input: LinkedFile): { object: string; file?: string } {
  return input.name === input.file ? { object: input.name } : { object: input.name, file: input.file };
}

function inputSection(name: string, type: number, flags: number, relocates?: InputSection): InputSection {
  return { name, type, flags, relocates };
}

/** Orphans among the real sections of a built object. */
async function orphansOfObject(
  scriptOf: () => LinkerScript | undefined,
  link: OrphanLink,
  build: BuildAccess,
  input: LinkedFile,
  recorded: FlagEvidence[] | undefined,
  now: EffectiveFlag[],
): Promise<OrphanFinding[] | 'absent' | string> {
  const object = input.file;
  const report = await build.reader.readObject(path.join(build.buildDir, object));
  if (report.error === 'file not found') return 'absent';
  if (report.error) return `${object}: ${report.error}`;
  if (report.object?.kind !== 'elf')
    return report.object?.kind === 'bitcode'
      ? `${object} is LLVM bitcode (an LTO build): its sections are decided at link time`
      : 'absent';
  const elf = report.object.elf;
  const script = scriptOf();
  // Without a script nothing can be judged; the reason is already in `incomplete`.
  if (!script) return [];
  const out: OrphanFinding[] = [];
  for (const s of elf.sections) {
    const target = s.type === SHT_REL || s.type === SHT_RELA ? elf.sections[s.info] : undefined;
    const relocates = target ? inputSection(target.name, target.type, Number(target.flags & 0xffffffffn)) : undefined;
    const placed = placeSection(
      script,
      object,
      inputSection(s.name, s.type, Number(s.flags & 0xffffffffn), relocates),
      { relocatable: link.relocatable },
    );
    if (placed.kind !== 'orphan') continue;
    const makers = flagsMaking(s.name);
    const flags = (recorded ?? []).filter((f) => makers.some((m) => effectiveSectionFlags([f.flag])[0]?.entry === m));
    // Stale: the last build's flag made it, and the Makefile no longer passes that flag to the object.
    const stale = flags.length > 0 && !flags.some((f) => now.some((n) => n.flag === f.flag));
    const alloc = (s.flags & SHF_ALLOC) !== 0n;
    out.push({ ...named(input), section: s.name, output: placed.output, from: 'object', flags, stale, alloc });
  }
  return out;
}

/** Orphans predicted from the flags that reach an object not built yet. */
function orphansFromFlags(
  scriptOf: () => LinkerScript | undefined,
  link: OrphanLink,
  input: LinkedFile,
  recorded: FlagEvidence[] | undefined,
  now: EffectiveFlag[],
): OrphanFinding[] {
  const object = input.file;
  // One finding per section the object will hold, as ld.lld prints one line per input section: the
  // flags of several readings (an unknown condition taken both ways) that make the same section are
  // the evidence of one finding, not findings of their own.
  const bySection = new Map<string, OrphanFinding>();
  // No flag that makes a section: nothing to place, so the script is not needed (an unconfigured
  // tree cannot preprocess it, and has nothing to say).
  const script = now.some((e) => e.entry.sections.length > 0) ? scriptOf() : undefined;
  if (!script) return [];
  for (const eff of now) {
    const evidence = recorded?.find((f) => f.flag === eff.flag) ?? { flag: eff.flag };
    for (const made of eff.entry.sections) {
      const known = bySection.get(made.name);
      if (known) {
        if (!known.flags.some((f) => f.flag === evidence.flag)) known.flags.push(evidence);
        continue;
      }
      const flags = (made.exclude ? 0x80000000 : 0) | (made.alloc ? Number(SHF_ALLOC) : 0);
      const placed = placeSection(script, object, inputSection(made.example, 1, flags), {
        relocatable: link.relocatable,
      });
      if (placed.kind === 'orphan')
        bySection.set(made.name, {
          ...named(input),
          section: made.name,
          output: placed.output.replace(made.example, made.name),
          from: 'flags',
          flags: [evidence],
          stale: false,
          alloc: !!made.alloc,
        });
    }
  }
  return [...bySection.values()];
}

/**
 * True when Kbuild makes the object from an assembly source beside the Makefile (`<stem>.S`, and no
 * `<stem>.c`): its compile gets the assembler flags, not `c_flags`, so no flag of the table reaches it.
 */
function assembledFrom(ctx: MakefileContext, object: string): boolean {
  const root = ctx.kernelRoot;
  if (!root) return false;
  const base = path.join(root, object.replace(/\.o$/, ''));
  return !statSafeSync(`${base}.c`).ok && statSafeSync(`${base}.S`).ok;
}

/**
 * The link's script, read and parsed on first use: only a link with something to place needs it.
 * What could not be read goes to `incomplete` once.
 */
function lazyScript(
  ctx: MakefileContext,
  link: OrphanLink,
  build: BuildAccess | undefined,
  incomplete: string[],
  edited?: ReadonlyMap<string, string>,
): { get: () => LinkerScript | undefined; text: () => ScriptText | undefined } {
  let loaded: { text?: ScriptText; parsed?: LinkerScript } | undefined;
  const load = (): { text?: ScriptText; parsed?: LinkerScript } => {
    if (loaded) return loaded;
    const script = scriptForLink(ctx, link, build, edited);
    if ('missing' in script) {
      incomplete.push(script.missing);
      return (loaded = {});
    }
    incomplete.push(...script.incomplete);
    const parsed = parseLinkerScript(script.text);
    for (const e of parsed.errors.slice(0, 3)) incomplete.push(`${script.file}: ${e}`);
    return (loaded = { text: script, parsed });
  };
  return { get: () => load().parsed, text: () => loaded?.text };
}

async function judgeLink(
  ctx: MakefileContext,
  makefile: Makefile,
  link: OrphanLink,
  build: BuildAccess | undefined,
  incomplete: string[],
  edited?: ReadonlyMap<string, string>,
): Promise<LinkVerdict> {
  const script = lazyScript(ctx, link, build, incomplete, edited);
  const findings: OrphanFinding[] = [];
  const onDemand: OrphanFinding[] = [];
  const cache = new Map<string, EffectiveFlag[]>();
  const inputs = await linkedFiles(link, build, incomplete);
  const limit = link.compiledElsewhere ? MAX_MEMBERS : MAX_OBJECTS;
  for (const input of inputs.slice(0, limit)) {
    const recorded = await recordedFlags(build, input.file, incomplete);
    // Objects other directories compile: the next build passes them what the last one did (their
    // own Makefiles decide, not this one).
    const now = link.compiledElsewhere
      ? effectiveSectionFlags((recorded ?? []).map((f) => f.flag))
      : flagsNow(ctx, makefile, input.file, recorded ?? [], cache);
    const real = build ? await orphansOfObject(script.get, link, build, input, recorded, now) : 'absent';
    if (typeof real === 'string' && real !== 'absent') incomplete.push(real);
    const found = Array.isArray(real)
      ? real
      : assembledFrom(ctx, input.file)
        ? []
        : orphansFromFlags(script.get, link, input, recorded, now);
    (input.onDemand ? onDemand : findings).push(...found);
  }
  if (onDemand.length > 0) {
    // Which of those members the link pulls in, from the symbols of what it links: their orphans are
    // ld.lld's lines too; the others are never read. Unknown (a symbol table not read): said as incomplete.
    const { pulled, unread } = build
      ? await pulledMembers(build.reader, build.buildDir, inputs.slice(0, limit))
      : { pulled: new Set<string>(), unread: ['(no build)'] };
    findings.push(...onDemand.filter((f) => pulled.has(f.file ?? f.object)));
    const left = onDemand.filter((f) => !pulled.has(f.file ?? f.object));
    if (unread.length > 0 && left.length > 0) incomplete.push(onDemandNote(link, left, unread));
  }
  if (inputs.length > limit)
    incomplete.push(`${link.output}: only the first ${limit} of ${inputs.length} input objects were read`);
  return { link, script: script.text(), findings };
}

export async function analyzeOrphans(
  ctx: MakefileContext,
  build: BuildAccess | undefined,
  /** `scripts`: `.lds.S` files (absolute paths) as a fix would leave them. */
  opts: { makefile?: Makefile; scripts?: ReadonlyMap<string, string> } = {},
): Promise<OrphanVerdict | { cut: string } | undefined> {
  const makefile = opts.makefile ?? ctx.makefile;
  // Another arch's directory: this configuration's build links nothing there.
  if (otherArchDirectory(ctx.tree, ctx.objDir)) return undefined;
  const found = orphanLinks(ctx, makefile);
  if (found.links.length === 0)
    return found.cut || found.notes.length > 0 ? { cut: found.cut ?? found.notes.join('; ') } : undefined;
  const incomplete: string[] = [...found.notes];
  if (found.ev?.incomplete) incomplete.push(found.ev.incomplete.message);
  const links: LinkVerdict[] = [];
  for (const link of found.links) links.push(await judgeLink(ctx, makefile, link, build, incomplete, opts.scripts));
  return { links, buildDir: build?.buildDir, incomplete };
}

/** Findings that break (or warn in) the next build: not stale, in a link that reports orphans. */
export function liveFindings(v: OrphanVerdict): { link: LinkVerdict; finding: OrphanFinding }[] {
  return v.links.flatMap((l) =>
    l.link.level === 'place' ? [] : l.findings.filter((f) => !f.stale).map((finding) => ({ link: l, finding })),
  );
}
