// The rule's note in the hover of a make variable: on the variable that gives a link its
// --orphan-handling level, what that link will print; on a variable this file sets with a flag that
// makes an orphan, which sections the flag makes and which link refuses them.
import type { Makefile } from '../../make/ast';
import { allStatements } from '../../kbuild/recipes';
import { liveFindings, type OrphanVerdict } from './analysis';
import { lldLine } from './diagnostic';

const MAX_LINES = 3;

function valuesOf(mf: Makefile, variable: string): string[] {
  const out: string[] = [];
  for (const s of allStatements(mf.statements)) {
    if (s.kind === 'assignment' && s.nameText.trim() === variable) out.push(s.valueText);
    else if (s.kind === 'define' && s.nameText.trim() === variable) out.push(s.bodyText);
  }
  return out;
}

function printed(lines: string[]): string {
  const shown = lines.slice(0, MAX_LINES).map((l) => `\`${l}\``);
  return lines.length > MAX_LINES ? `${shown.join('; ')} and ${lines.length - MAX_LINES} more` : shown.join('; ');
}

export function hoverNote(mf: Makefile, v: OrphanVerdict): (variable: string) => string | undefined {
  const live = liveFindings(v);
  return (variable) => {
    const notes: string[] = [];
    for (const l of v.links) {
      if (l.link.levelLine?.nameText.trim() !== variable || l.link.level === 'place') continue;
      const lines = live.filter((x) => x.link === l).map((x) => lldLine(x.finding));
      notes.push(
        `**orphan-sections:** the link of \`${l.link.output}\` runs with \`--orphan-handling=${l.link.level}\`: ` +
          (lines.length === 0
            ? 'nothing that reaches it is an orphan.'
            : `ld.lld will print ${lines.length === 1 ? 'this line' : `${lines.length} lines`}: ${printed(lines)}.`),
      );
    }
    const values = valuesOf(mf, variable);
    const flags = [...new Set(live.flatMap((x) => x.finding.flags.map((f) => f.flag)))].filter((flag) =>
      values.some((value) => value.includes(flag)),
    );
    for (const flag of flags) {
      const made = live.filter((x) => x.finding.flags.some((f) => f.flag === flag));
      const sections = [...new Set(made.map((x) => x.finding.section))];
      notes.push(
        `**orphan-sections:** \`${flag}\` makes ${sections.map((s) => `\`${s}\``).join(', ')}, which the linker script of ` +
          `\`${made[0].link.link.output}\` does not place: ${printed(made.map((x) => lldLine(x.finding)))}.`,
      );
    }
    return notes.length > 0 ? notes.join('\n\n') : undefined;
  };
}
