// The forms of the nvhe fix (A and B from upstream review, C from vendor trees) as text edits, written in the file's own style.
//  Form A: filter every profile-use spelling out of KBUILD_CFLAGS (the merged fix, bde971a83bbf).
//  Form B: objcopy -R .llvm.call-graph-profile on gen-hyprel's input before gen-hyprel (the v2 patch).
// An edit is only returned when applying it makes the rule pass: it is checked by re-analysis.
import type { AssignmentStmt, Makefile, Statement } from '../../make/ast';
import { applyEdits, splitLines, type FixResult, type PlainEdit } from '../../make/edits';
import { parseMakefile } from '../../make/parser';
import { ALL_PROFILE_USE_PATTERNS as FORM_A_PATTERNS } from '../../kbuild/profileFlags';
import { allStatements } from '../../kbuild/recipes';
import type { FixDef } from '../rule';
import { analyzeNvhe, type NvheVerdict, type RuleInput } from './analysis';
import { CALL_GRAPH_SECTION } from './sections';

export type FixForm = 'A' | 'B' | 'C';

export const FIXES: readonly FixDef[] = [
  {
    id: 'A',
    title: 'Filter profile-use flags out of KBUILD_CFLAGS (form A, the upstream fix)',
    preferred: true,
    fixAll: true,
  },
  { id: 'B', title: 'Remove .llvm.call-graph-profile before gen-hyprel (form B)' },
  { id: 'C', title: "Turn off Kbuild's profile for the hyp objects (form C, e.g. AUTOFDO_PROFILE := n)", fixAll: true },
];

interface Style {
  eol: string;
  /** Indentation of continuation lines (the file's own, else a tab). */
  continuationIndent: string;
  /** Text after the comma in the file's filter-out calls: ', ' or ','. */
  commaSpace: string;
}

function styleOf(text: string, mf: Makefile, anchor?: AssignmentStmt): Style {
  const lines = splitLines(text);
  let continuationIndent = '\t';
  for (let i = 0; i + 1 < lines.length; i++) {
    if (/\\$/.test(lines[i]) && !lines[i].startsWith('\t')) {
      const m = /^[ \t]+/.exec(lines[i + 1]);
      if (m) {
        // A tab if the file indents continuations with tabs, else its run of spaces.
        continuationIndent = m[0].startsWith('\t') ? '\t' : m[0];
        break;
      }
    }
  }
  const commaSpace = anchor && /,\S/.test(anchor.valueText) && !/, /.test(anchor.valueText) ? ',' : ', ';
  return { eol: mf.eol === 'crlf' ? '\r\n' : '\n', continuationIndent, commaSpace };
}

/** Position at the start of the line after `line` (or the end of the text, with a line end added). */
function afterLine(lines: string[], line: number, eol: string): { pos: PlainEdit['range']['start']; prefix: string } {
  if (line + 1 < lines.length) return { pos: { line: line + 1, character: 0 }, prefix: '' };
  return { pos: { line, character: lines[line]?.length ?? 0 }, prefix: eol };
}

function lastAssignmentTo(mf: Makefile, names: string[]): AssignmentStmt | undefined {
  let last: AssignmentStmt | undefined;
  for (const s of allStatements(mf.statements))
    if (s.kind === 'assignment' && names.includes(s.nameText.trim())) last = s;
  return last;
}

function topLevelAnchor(mf: Makefile, stmt: Statement | undefined): Statement | undefined {
  if (!stmt) return undefined;
  // Insert after the whole conditional when the anchor sits inside one.
  for (const s of mf.statements) {
    if (s.span.start.line <= stmt.span.start.line && s.span.end.line >= stmt.span.end.line) return s;
  }
  return stmt;
}

function formAEdits(text: string, mf: Makefile, v: NvheVerdict): PlainEdit[] {
  const lines = splitLines(text);
  const anchorStmt = topLevelAnchor(
    mf,
    v.filterOutLine ?? lastAssignmentTo(mf, ['KBUILD_CFLAGS']) ?? lastAssignmentTo(mf, ['ccflags-y']),
  );
  const style = styleOf(text, mf, v.filterOutLine);
  const { eol, continuationIndent: ind, commaSpace } = style;
  const half = Math.ceil(FORM_A_PATTERNS.length / 2);
  const block = [
    `# With a profile (-fprofile-sample-use=, -fprofile-use=, ...) clang 13+ emits`,
    `# '${CALL_GRAPH_SECTION}' and an SHT_REL section for it, which gen-hyprel`,
    `# rejects. Remove the profile-use flags from the hyp code.`,
    `KBUILD_CFLAGS := $(filter-out ${FORM_A_PATTERNS.slice(0, half).join(' ')} \\`,
    `${ind}${FORM_A_PATTERNS.slice(half).join(' ')},${commaSpace === ',' ? '' : ' '}\\`,
    `${ind}$(KBUILD_CFLAGS))`,
  ];
  if (anchorStmt) {
    const { pos, prefix } = afterLine(lines, anchorStmt.span.end.line, eol);
    return [{ range: { start: pos, end: pos }, newText: prefix + block.join(eol) + (prefix ? '' : eol) }];
  }
  const last = lines.length - 1;
  const endsWithEol = lines[last] === '';
  const pos = { line: last, character: lines[last].length };
  return [{ range: { start: pos, end: pos }, newText: (endsWithEol ? '' : eol) + eol + block.join(eol) + eol }];
}

/**
 * Where the program word of the gen-hyprel command is written, and its first operand: the word
 * `gen-hyprel` itself, or the reference the command starts with when the tool is named through a
 * variable (`cmd_hyprel = $(HYPREL) $< > $@`).
 */
function genHyprelWord(lines: string[], v: NvheVerdict): { line: number; start: number; end: number } | undefined {
  const cmd = v.pipeline.genHyprel;
  for (let line = cmd.span.start.line; line <= cmd.span.end.line && line < lines.length; line++) {
    const at = lines[line].indexOf('gen-hyprel');
    if (at < 0) continue;
    let start = at;
    while (start > 0 && !/[\s;&|=]/.test(lines[line][start - 1])) start--;
    return { line, start, end: at + 'gen-hyprel'.length };
  }
  // Named through a variable: the command is the first of its definition, which starts with a reference.
  const def = cmd.definition;
  const first = def?.kind === 'assignment' ? def.value[0] : undefined;
  const fromDef = v.pipeline.rules.flatMap((r) => r.commands).filter((c) => c.definition === def);
  if (!first || first.kind !== 'ref' || fromDef[0] !== cmd || first.span.start.line !== first.span.end.line)
    return undefined;
  return { line: first.span.start.line, start: first.span.start.character, end: first.span.end.character };
}

function formBEdits(text: string, v: NvheVerdict): PlainEdit[] | undefined {
  const lines = splitLines(text);
  const cmd = v.pipeline.genHyprel;
  const word = genHyprelWord(lines, v);
  if (!word) return undefined;
  const { line, start } = word;
  const operand = /^\s+(\S+)/.exec(lines[line].slice(word.end))?.[1];
  if (!operand || operand.startsWith('>')) return undefined;
  const edits: PlainEdit[] = [
    {
      range: { start: { line, character: start }, end: { line, character: start } },
      newText: `$(OBJCOPY) -R ${CALL_GRAPH_SECTION} ${operand}; `,
    },
  ];
  if (cmd.definition) {
    // A comment above the command group (quiet_cmd_X sits right above cmd_X in Kbuild style).
    let commentLine = cmd.definition.span.start.line;
    if (commentLine > 0 && /^\s*quiet_cmd_/.test(lines[commentLine - 1])) commentLine--;
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    edits.push({
      range: { start: { line: commentLine, character: 0 }, end: { line: commentLine, character: 0 } },
      newText: `# gen-hyprel rejects SHT_REL sections: drop clang's ${CALL_GRAPH_SECTION} (and its${eol}# .rel section) from the object first.${eol}`,
    });
  }
  return edits;
}

export function computeFix(text: string, input: RuleInput, form: FixForm): FixResult | undefined {
  const lines = splitLines(text);
  const verdict = analyzeNvhe(input, (l) => lines[l]?.length ?? 0);
  if (!verdict || (!verdict.leaks && !verdict.aliasLeak)) return undefined;
  const edits =
    form === 'A'
      ? formAEdits(text, input.makefile, verdict)
      : form === 'B'
        ? formBEdits(text, verdict)
        : formCEdits(text, input, verdict);
  if (!edits) return undefined;
  const newText = applyEdits(text, edits);
  const after = analyzeNvhe({ ...input, makefile: parseMakefile(newText) });
  // Form C takes away only what Kbuild adds by itself; aliases from KCFLAGS keep their own hint.
  const cleared =
    form === 'C'
      ? after && !after.leaks && !after.dependsOn && after.addedFlags.length === 0
      : after && !after.leaks && !after.aliasLeak && !after.dependsOn;
  if (!cleared) return undefined;
  return { edits, newText };
}

/**
 * The per-directory switches the tree's Kbuild reads when it adds its own flags to `_c_flags`/`c_flags`
 * (scripts/Makefile.lib, e.g. `$(AUTOFDO_PROFILE)`): plain upper-case names that no Kbuild script sets.
 */
function directorySwitches(input: RuleInput): string[] {
  const lib = input.tree?.makefileLib;
  if (!lib) return [];
  const assigned = new Set<string>();
  const scripts = [lib, ...(input.tree?.prelude.map((p) => p.makefile) ?? [])];
  for (const mf of scripts)
    for (const s of allStatements(mf.statements))
      if (s.kind === 'assignment' || s.kind === 'define') assigned.add(s.nameText.trim());
  const out = new Set<string>();
  for (const s of allStatements(lib.statements)) {
    if (s.kind !== 'assignment' || !/^_?c_flags$/.test(s.nameText.trim()) || s.op !== '+=') continue;
    for (const m of s.valueText.matchAll(/\$\(([A-Z][A-Z0-9_]*)\)/g)) {
      if (!m[1].startsWith('CONFIG_') && !m[1].startsWith('KBUILD_') && !assigned.has(m[1])) out.add(m[1]);
    }
  }
  return [...out].sort();
}

/** Where directory settings (`KASAN_SANITIZE := n`, ...) are: after the last one at the top level. */
function settingsAnchor(mf: Makefile): AssignmentStmt | undefined {
  let last: AssignmentStmt | undefined;
  for (const s of mf.statements)
    if (s.kind === 'assignment' && /^[A-Z][A-Z0-9_]*$/.test(s.nameText.trim()) && /^[ny]$/.test(s.valueText.trim()))
      last = s;
  return last;
}

/** Form C: set the directory switches that keep Kbuild's own profile flags off the hyp objects. */
function formCEdits(text: string, input: RuleInput, v: NvheVerdict): PlainEdit[] | undefined {
  if (v.addedFlags.length === 0) return undefined;
  const lines = splitLines(text);
  const anchor = settingsAnchor(input.makefile) ?? lastAssignmentTo(input.makefile, ['KBUILD_CFLAGS']);
  const eol = input.makefile.eol === 'crlf' ? '\r\n' : '\n';
  // The file's own spacing between a setting's name and `:=`.
  const gap = anchor ? (/^[A-Z][A-Z0-9_]*(\s*):?=/.exec(lines[anchor.span.start.line] ?? '')?.[1] ?? ' ') : ' ';
  const edit = (names: string[]): PlainEdit[] => {
    const block = [
      '',
      `# Kbuild's profile for these objects makes clang emit ${CALL_GRAPH_SECTION}`,
      `# with an SHT_REL section, which gen-hyprel cannot consume.`,
      ...names.map((n) => `${n}${gap}:= n`),
    ].join(eol);
    if (anchor) {
      const { pos, prefix } = afterLine(lines, anchor.span.end.line, eol);
      return [{ range: { start: pos, end: pos }, newText: prefix + block + (prefix ? '' : eol) }];
    }
    const last = lines.length - 1;
    const pos = { line: last, character: lines[last].length };
    return [{ range: { start: pos, end: pos }, newText: (lines[last] === '' ? '' : eol) + eol + block + eol }];
  };
  const addedAfter = (names: string[]): number => {
    const t = applyEdits(text, edit(names));
    return analyzeNvhe({ ...input, makefile: parseMakefile(t) })?.addedFlags.length ?? 0;
  };
  // The switches that take some of Kbuild's profile flags away; one alone when it is enough.
  const useful = directorySwitches(input).filter((n) => addedAfter([n]) < v.addedFlags.length);
  if (useful.length === 0) return undefined;
  const alone = useful.find((n) => addedAfter([n]) === 0);
  return edit(alone ? [alone] : useful);
}
