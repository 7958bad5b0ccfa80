// A second rule for tests only: small, with a real analysis of its own, to prove that a rule is a
// unit (its folder-equivalent here plus a registry entry) and reaches every generic layer.
//
// Rule `test-link-comment`: a Makefile with a relocatable link (`ld -r`) whose objects keep their
// `.comment` sections, unless the Makefile says it accepts them (`TEST_KEEP_COMMENT := y`).
// Fix `ack` adds that line. Explorer: the link's inputs and output, `.comment` sections marked.
import * as path from 'node:path';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { applyEdits, splitLines } from '../../server/src/make/edits';
import { parseMakefile } from '../../server/src/make/parser';
import { evaluateInKbuild } from '../../server/src/kbuild/compileFlags';
import { linkerOutput, normalizePath, readRules, type MakeRule } from '../../server/src/kbuild/recipes';
import { isLinker } from '../../server/src/kbuild/shellCommands';
import type { MakefileContext, Rule } from '../../server/src/rules/rule';

export const TEST_RULE_ID = 'test-link-comment';

function relocatableLink(ctx: MakefileContext): { rule: MakeRule; output: string; ack: boolean } | undefined {
  const ev = evaluateInKbuild(ctx.makefile, ctx.objDir);
  for (const r of readRules(ctx.makefile, ev)) {
    for (const c of r.commands) {
      if (!isLinker(c.program) || !c.args.includes('-r')) continue;
      const output = normalizePath(linkerOutput(c) ?? r.targets[0] ?? '');
      return { rule: r, output, ack: ev.expand('$(TEST_KEEP_COMMENT)').trim() === 'y' };
    }
  }
  return undefined;
}

export const secondRule: Rule = {
  id: TEST_RULE_ID,
  codes: [TEST_RULE_ID],
  prefilter: ['-r'],
  fixes: [{ id: 'ack', title: 'Accept .comment sections (TEST_KEEP_COMMENT := y)', preferred: true, fixAll: true }],
  async analyze(ctx, build, links) {
    const link = relocatableLink(ctx);
    if (!link) return undefined;
    const objects = [
      ...link.rule.prerequisites.filter((p) => p.endsWith('.o')).map((p) => ({ path: p, stage: 'link-input' })),
      { path: link.output, stage: 'link-output' },
    ];
    let seen = '';
    if (!link.ack) {
      const access = await build();
      if (access) {
        const report = await access.reader.readObject(path.join(access.buildDir, link.output));
        if (report.object?.kind === 'elf' && report.object.elf.sections.some((s) => s.name === '.comment'))
          seen = ` The build's ${path.basename(link.output)} has one.`;
      }
    }
    const span = link.rule.rule.span;
    const anchor = {
      start: span.start,
      end: { line: span.start.line, character: splitLines(ctx.text)[span.start.line]?.length ?? 0 },
    };
    return {
      diagnostics: link.ack
        ? []
        : [
            {
              range: anchor,
              severity: DiagnosticSeverity.Warning,
              source: 'kbuild-diagnostics',
              code: TEST_RULE_ID,
              codeDescription: { href: links.docUri },
              message: `The relocatable link of ${link.output} keeps .comment sections.${seen}`,
            },
          ],
      problem: !link.ack,
      anchor,
      objects,
      hoverNote: (v) => (v === 'TEST_KEEP_COMMENT' ? '**test rule:** accepts .comment sections' : undefined),
    };
  },
  fix(ctx, fixId) {
    if (fixId !== 'ack') return undefined;
    const link = relocatableLink(ctx);
    if (!link || link.ack) return undefined;
    const eol = ctx.text.includes('\r\n') ? '\r\n' : '\n';
    const lines = splitLines(ctx.text);
    const last = lines.length - 1;
    const pos = { line: last, character: lines[last].length };
    const edits = [
      { range: { start: pos, end: pos }, newText: `${lines[last] === '' ? '' : eol}TEST_KEEP_COMMENT := y${eol}` },
    ];
    const newText = applyEdits(ctx.text, edits);
    const after = relocatableLink({ ...ctx, text: newText, makefile: parseMakefile(newText) });
    return after?.ack ? { edits, newText } : undefined;
  },
  patchText: () => ({
    subject: 'test: Accept .comment sections in relocatable links',
    body: 'The test rule asks for it.',
  }),
  explorer: {
    stages: [
      { id: 'link-input', label: 'input of a relocatable link', short: 'link in', next: 'link-output' },
      { id: 'link-output', label: 'output of a relocatable link', short: 'link out' },
    ],
    conventionalDirs: [],
    stageByName: () => undefined,
    sectionReason: (s) => (s.name === '.comment' ? 'test rule: a .comment section' : undefined),
    async classify(report) {
      const sections = new Map<number, string>();
      if (report.object?.kind === 'elf')
        for (const s of report.object.elf.sections)
          if (s.name === '.comment') sections.set(s.index, 'test rule: a .comment section');
      return { sections };
    },
  },
};
