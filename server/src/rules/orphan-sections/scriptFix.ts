// Fix "place or discard the section in the linker script": an edit of each refusing link's `.lds.S`
// (the source Kbuild preprocesses into the script; a plain script when there is none). Only for
// sections nothing loads (no SHF_ALLOC: tool metadata such as .llvm_bb_addr_map or .stack_sizes);
// where code or data belongs is a choice the rule does not make, so no script fix is offered then.
// - A link of kernel objects (what the profile tools read: Propeller's create_llvm_prof reads
//   .llvm_bb_addr_map from vmlinux) gets the section placed in an output section of its own, as
//   upstream did in arch/x86/kernel/vmlinux.lds.S (commit d5dc95836147, Linux 6.13). This fix is then
//   the preferred one.
// - Any other link (a vDSO, a boot image) gets it discarded, inside the script's own /DISCARD/ when it
//   has one written there, else in a new one. Upstream keeps such flags away from these objects (the
//   remove-flag fix, preferred there).
// Offered only when re-analysis with the edited script (preprocessed as Kbuild does, placed as
// ld.lld places) leaves no orphan that breaks or warns.
import * as path from 'node:path';
import { applyEdits, type FileEdit, type FixResult, type PlainEdit } from '../../make/edits';
import type { Evaluation } from '../../make/evaluator';
import { isUnknownWord, splitWords } from '../../make/values';
import { normalizePath } from '../../kbuild/recipes';
import { readRegularTextSync } from '../../fs/safeRead';
import { scriptSourceSites } from '../../lds/sourceSites';
import type { MakefileContext, BuildAccess } from '../rule';
import { analyzeOrphans, liveFindings, orphanLinks, type LinkVerdict, type OrphanVerdict } from './analysis';
import type { OrphanLink } from './links';

export const SCRIPT_SECTION = 'script-section';

const MAX_SCRIPT_BYTES = 4 * 1024 * 1024;

/**
 * True when every input of the link is a kernel object in Kbuild's sense (`is-kernel-object`: an
 * object of obj-y, lib-y or obj-m) or an archive Kbuild makes of them (built-in.a, lib.a, and the
 * top Makefile's vmlinux.a made of those: scriptLinks.ts).
 */
function linksKernelObjects(ev: Evaluation | undefined, link: OrphanLink, objDir: string): boolean {
  if (link.kernelArchives) return true;
  if (!ev || link.inputs.length === 0) return false;
  const words = splitWords(ev.expand('$(obj-y) $(obj-m) $(lib-y)')).filter((w) => !isUnknownWord(w));
  const kernel = new Set(words.map((w) => normalizePath(objDir === '.' ? w : `${objDir}/${w}`)));
  return link.inputs.every((i) => kernel.has(i) || /(^|\/)(built-in|lib)\.a$/.test(i));
}

/** A section name a script can name as it is (no glob or script syntax in it). */
function literalName(name: string): boolean {
  return /^[A-Za-z0-9_.$-]+$/.test(name);
}

/** The edits of one script source: discard (or place) each section. */
function scriptEdits(text: string, sections: string[], place: boolean): PlainEdit[] | undefined {
  const sites = scriptSourceSites(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const at = (line: number, character: number) => ({ start: { line, character }, end: { line, character } });
  const discard = sites.discards[sites.discards.length - 1];
  if (!place && discard) {
    if (discard.ownLine)
      return [
        {
          range: at(discard.close.line, 0),
          newText: sections.map((s) => `${discard.innerIndent}*(${s})${eol}`).join(''),
        },
      ];
    return [
      {
        range: at(discard.close.line, discard.close.character),
        newText: sections.map((s) => `*(${s}) `).join(''),
      },
    ];
  }
  const body = sites.sections;
  if (!body) return undefined;
  const indent = body.innerIndent;
  const lines = place
    ? sections.map((s) => `${indent}${s} : { *(${s}) }`)
    : [`${indent}/DISCARD/ : { ${sections.map((s) => `*(${s})`).join(' ')} }`];
  if (body.ownLine) return [{ range: at(body.close.line, 0), newText: `${eol}${lines.join(eol)}${eol}` }];
  return [{ range: at(body.close.line, body.close.character), newText: ` ${lines.join(' ')} ` }];
}

/** The `.lds.S` (or plain script) a link's script is made from, as a path and its text. */
function scriptSource(l: LinkVerdict): { file: string; text: string } | undefined {
  const file = l.script?.source ?? (l.script?.from === 'plain' ? l.script.file : undefined);
  if (!file) return undefined;
  const r = readRegularTextSync(file, { maxBytes: MAX_SCRIPT_BYTES });
  return r.ok ? { file, text: r.text } : undefined;
}

/** One edit per script source; undefined when some live orphan is not a section this fix handles. */
function plan(
  v: OrphanVerdict,
  place: boolean,
): { files: FileEdit[]; sections: string[]; scripts: Map<string, string> } | undefined {
  const perFile = new Map<string, { text: string; sections: Set<string> }>();
  for (const { link, finding } of liveFindings(v)) {
    if (finding.alloc || !literalName(finding.section)) return undefined;
    const src = scriptSource(link);
    if (!src) return undefined;
    const entry = perFile.get(src.file) ?? { text: src.text, sections: new Set<string>() };
    entry.sections.add(finding.section);
    perFile.set(src.file, entry);
  }
  const files: FileEdit[] = [];
  const scripts = new Map<string, string>();
  for (const [file, { text, sections }] of perFile) {
    const edits = scriptEdits(text, [...sections].sort(), place);
    if (!edits) return undefined;
    const newText = applyEdits(text, edits);
    files.push({ file, oldText: text, edits, newText });
    scripts.set(file, newText);
  }
  const sections = [...new Set([...perFile.values()].flatMap((e) => [...e.sections]))].sort();
  return files.length > 0 ? { files, sections, scripts } : undefined;
}

/** Whether upstream's choice for these links is the script (links of kernel objects) rather than the flags. */
export function prefersScript(ctx: MakefileContext, v: OrphanVerdict): boolean {
  const { ev } = orphanLinks(ctx);
  const links = [...new Set(liveFindings(v).map((l) => l.link.link))];
  return links.length > 0 && links.every((l) => linksKernelObjects(ev, l, ctx.objDir));
}

export async function computeScriptFix(
  ctx: MakefileContext,
  build: () => Promise<BuildAccess | undefined>,
): Promise<FixResult | undefined> {
  const access = await build();
  const v = await analyzeOrphans(ctx, access);
  if (!v || 'cut' in v || liveFindings(v).length === 0) return undefined;
  const place = prefersScript(ctx, v);
  const p = plan(v, place);
  if (!p) return undefined;
  const after = await analyzeOrphans(ctx, access, { scripts: p.scripts });
  if (
    !after ||
    'cut' in after ||
    liveFindings(after).length > 0 ||
    !after.incomplete.every((i) => v.incomplete.includes(i))
  )
    return undefined;
  const names = p.files.map((f) => path.basename(f.file)).join(', ');
  return {
    edits: [],
    newText: ctx.text,
    files: p.files,
    title: `${place ? 'Place' : 'Discard'} ${p.sections.join(', ')} in ${names}`,
    preferred: place,
  };
}
