// Fix "remove the flag for the objects whose sections the link refuses": extend the directory's own
// remove list when every such object's CFLAGS_REMOVE_<obj>.o is just that list (the vDSO's
// CC_FLAGS_REMOVE_VDSO), else add to each object's CFLAGS_REMOVE_<obj>.o; when the tree's own Kbuild
// adds the flag after the remove lists (a Makefile.propeller block in scripts/Makefile.lib), set its
// directory switch (`PROPELLER_PROFILE := n`, kbuild/directorySwitches.ts). Offered only when the edited
// Makefile, re-analyzed with the same build, leaves no orphan that breaks or warns. The rule's second
// fix, placing or discarding the section in the linker script, is scriptFix.ts.
import type { AssignmentStmt, Makefile, Statement } from '../../make/ast';
import { applyEdits, splitLines, type FixResult, type PlainEdit } from '../../make/edits';
import { parseMakefile } from '../../make/parser';
import { allStatements } from '../../kbuild/recipes';
import type { BuildAccess, FixDef, MakefileContext } from '../rule';
import { switchesAdding } from '../../kbuild/directorySwitches';
import { analyzeOrphans, liveFindings, orphanLinks, type OrphanVerdict } from './analysis';
import { removalPattern } from './sectionFlags';
import { computeScriptFix, prefersScript, SCRIPT_SECTION } from './scriptFix';

const REMOVE_FLAG = 'remove-flag';

// Which one is preferred depends on the link (scriptFix.ts): `preferred` here is the default, and
// each computed fix says whether it is the preferred one for its finding.
export const FIXES: readonly FixDef[] = [
  {
    id: REMOVE_FLAG,
    title: "Remove the section-making flag from the objects the link refuses (the directory's remove list)",
    preferred: true,
    fixAll: true,
  },
  {
    id: SCRIPT_SECTION,
    title: 'Place or discard the section in the linker script (.lds.S)',
  },
];

function lastAssignment(mf: Makefile, name: string): AssignmentStmt | undefined {
  let last: AssignmentStmt | undefined;
  for (const s of allStatements(mf.statements)) if (s.kind === 'assignment' && s.nameText.trim() === name) last = s;
  return last;
}

/** The top-level statement holding `stmt` (insert after a whole conditional). */
function topLevel(mf: Makefile, stmt: Statement): Statement {
  return (
    mf.statements.find((s) => s.span.start.line <= stmt.span.start.line && s.span.end.line >= stmt.span.end.line) ??
    stmt
  );
}

function insertAfter(text: string, mf: Makefile, stmt: Statement | undefined, block: string[]): PlainEdit {
  const lines = splitLines(text);
  const eol = mf.eol === 'crlf' ? '\r\n' : '\n';
  const line = stmt ? topLevel(mf, stmt).span.end.line : lines.length - 1;
  if (line + 1 < lines.length)
    return {
      range: { start: { line: line + 1, character: 0 }, end: { line: line + 1, character: 0 } },
      newText: block.join(eol) + eol,
    };
  const end = { line, character: lines[line]?.length ?? 0 };
  return { range: { start: end, end }, newText: eol + block.join(eol) + eol };
}

/** The objects with live orphans made by known flags, with the removal patterns for them. */
function targets(v: OrphanVerdict, objDir: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const { finding } of liveFindings(v)) {
    if (finding.flags.length === 0) continue;
    const rel =
      objDir !== '.' && finding.object.startsWith(objDir + '/')
        ? finding.object.slice(objDir.length + 1)
        : finding.object;
    const set = out.get(rel) ?? new Set<string>();
    for (const f of finding.flags) set.add(removalPattern(f.flag));
    out.set(rel, set);
  }
  return out;
}

/** Where directory settings (`KASAN_SANITIZE := n`, ...) go: after the last one, else after the last remove line. */
function settingsAnchor(mf: Makefile): Statement | undefined {
  let last: Statement | undefined;
  for (const s of mf.statements)
    if (s.kind === 'assignment' && /^[A-Z][A-Z0-9_]*$/.test(s.nameText.trim()) && /^[ny]$/.test(s.valueText.trim()))
      last = s;
  if (last) return last;
  for (const s of allStatements(mf.statements))
    if (s.kind === 'assignment' && /^CFLAGS_REMOVE_/.test(s.nameText.trim()))
      if (!last || s.span.end.line > last.span.end.line) last = s;
  return last;
}

/**
 * Edit candidates: the shared remove list first, then one CFLAGS_REMOVE_<obj>.o line per object, then
 * each directory switch of the tree's Kbuild that adds the flags (`switches`).
 */
function candidates(
  text: string,
  mf: Makefile,
  objects: Map<string, Set<string>>,
  sections: string[],
  switches: string[],
): PlainEdit[][] {
  const patterns = [...new Set([...objects.values()].flatMap((s) => [...s]))];
  const comment = `# ${patterns.join(' ')} make${patterns.length === 1 ? 's' : ''} ${sections.join(', ')}, which this directory's linker script does not place (an orphan: --orphan-handling).`;
  const out: PlainEdit[][] = [];
  const lists = [...objects.keys()].map((o) => {
    const def = lastAssignment(mf, `CFLAGS_REMOVE_${o}`);
    return def ? /^\$[({]([A-Za-z0-9_]+)[)}]$/.exec(def.valueText.trim())?.[1] : undefined;
  });
  const shared = lists[0];
  if (shared && lists.every((l) => l === shared)) {
    const def = lastAssignment(mf, shared);
    if (def) out.push([insertAfter(text, mf, def, [comment, `${shared} += ${patterns.join(' ')}`])]);
  }
  const lastRemove = [...objects.keys()]
    .map((o) => lastAssignment(mf, `CFLAGS_REMOVE_${o}`))
    .filter((s): s is AssignmentStmt => !!s)
    .sort((a, b) => b.span.end.line - a.span.end.line)[0];
  const perObject = [comment, ...[...objects].map(([o, p]) => `CFLAGS_REMOVE_${o} += ${[...p].join(' ')}`)];
  out.push([insertAfter(text, mf, lastRemove, perObject)]);
  for (const name of switches) {
    const why = `# The tree's Kbuild adds ${patterns.join(' ')} after the remove lists; it makes ${sections.join(', ')}, which this directory's linker script does not place.`;
    out.push([insertAfter(text, mf, settingsAnchor(mf), [why, `${name} := n`])]);
  }
  return out;
}

/** The switches of the tree's Kbuild that add the flags these findings name. */
function switchesFor(ctx: MakefileContext, v: OrphanVerdict): string[] {
  const { ev } = orphanLinks(ctx);
  const flags = [...new Set(liveFindings(v).flatMap((l) => l.finding.flags.map((f) => f.flag)))];
  return ev ? switchesAdding(ctx.tree, ev, flags) : [];
}

export async function computeFix(
  ctx: MakefileContext,
  fixId: string,
  build: () => Promise<BuildAccess | undefined>,
): Promise<FixResult | undefined> {
  if (fixId === SCRIPT_SECTION) return computeScriptFix(ctx, build);
  if (fixId !== REMOVE_FLAG) return undefined;
  const access = await build();
  const v = await analyzeOrphans(ctx, access);
  if (!v || 'cut' in v) return undefined;
  const live = liveFindings(v);
  if (live.length === 0) return undefined;
  const objects = targets(v, ctx.objDir);
  if (objects.size === 0) return undefined;
  const sections = [...new Set(live.map((l) => l.finding.section))];
  for (const edits of candidates(ctx.text, ctx.makefile, objects, sections, switchesFor(ctx, v))) {
    const newText = applyEdits(ctx.text, edits);
    const makefile = parseMakefile(newText);
    const after = await analyzeOrphans({ ...ctx, text: newText, makefile }, access, { makefile });
    if (
      after &&
      !('cut' in after) &&
      liveFindings(after).length === 0 &&
      after.incomplete.every((i) => v.incomplete.includes(i))
    )
      return { edits, newText, preferred: !prefersScript(ctx, v) };
  }
  return undefined;
}
