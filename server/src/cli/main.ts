// Command-line front end: `kbuild-diagnostics <command> ...`; one command, one file.
import * as path from 'node:path';
import { RULES } from '../rules/registry';
import type { Rule } from '../rules/rule';
import { checkCommand } from './check';
import { fixCommand } from './fix';
import { processIo, type CliIo } from './io';
import { sectionsCommand } from './sections';

const usage = `usage: kbuild-diagnostics <command> [options]
commands:
  sections FILE...   print section tables like llvm-readelf -S (--json, --relocs)
  check [PATH...]    run the rules over files and trees (--build-dir DIR, --format text|json)
  fix --fix ID FILE  apply a rule's fix to a make file (--rule ID when fix ids collide; --form is --fix;
                     --force writes a read-only file, --in-place keeps hard links)`;

export interface CliOptions {
  rules?: readonly Rule[];
  /** Folder of the rules' explanation pages; default: beside the CLI bundle. */
  docsDir?: string;
}

export async function main(argv: string[], io: CliIo = processIo, options: CliOptions = {}): Promise<number> {
  const rules = options.rules ?? RULES;
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    io.out(usage + '\n');
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === 'sections') {
    return sectionsCommand(argv.slice(1), io, (elf) => {
      const marks = new Map<number, string>();
      for (const r of rules) {
        const classify = r.explorer?.sectionReason;
        if (!classify) continue;
        for (const s of elf.sections) {
          const why = classify(s, elf);
          if (why && !marks.has(s.index)) marks.set(s.index, why);
        }
      }
      return marks;
    });
  }
  if (argv[0] === 'check') return checkCommand(argv.slice(1), io, rules, options.docsDir ?? path.join(__dirname, 'rules'));
  if (argv[0] === 'fix') return fixCommand(argv.slice(1), io, rules);
  io.err(`kbuild-diagnostics: unknown command '${argv[0]}'\n${usage}\n`);
  return 2;
}
