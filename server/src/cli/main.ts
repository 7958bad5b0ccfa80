// Command-line front end: `kbuild-diagnostics <command> ...`; one command, one file.
// Each command is loaded only when it runs (`sections` never loads the Make parser or the rules); the
// CLI build puts each in its own file (scripts/build.mjs), other bundles inline them.
import type { Rule } from '../rules/rule';
import { processIo, type CliIo } from './io';

const usage = `usage: kbuild-diagnostics <command> [options]
commands:
  sections FILE...   print section tables like llvm-readelf -S (--json, --relocs)
  check [PATH...]    run the rules over files and trees (--build-dir DIR, --format text|json)
  link-map --script SCRIPT OBJ...
                     where each input section goes in a link with SCRIPT (a .lds, or a .lds.S in a
                     kernel tree, preprocessed as Kbuild would; --build-dir DIR, -r for ld -r, --json)
  fix --fix ID FILE  apply a rule's fix to a make file (--rule ID when fix ids collide; --form is --fix;
                     --force writes a read-only file, --in-place keeps hard links)
exit status:
  0  nothing found and everything was read (check), the command did its work (sections, fix), or --help
  1  found: check reported a problem; fix could not write the file; sections/link-map could not read a file
  2  usage or input error: unknown command or option, missing argument, missing path or --build-dir
  3  incomplete (check): nothing found, but something could not be read or evaluated in full
A closed output pipe (\`check . | head -1\`) ends the command quietly with its own exit status.`;

export interface CliOptions {
  /** The rules to run (default: the registry). */
  rules?: readonly Rule[];
  /** Folder of the rules' explanation pages; default: beside the CLI bundle. */
  docsDir?: string;
}

export async function main(argv: string[], io: CliIo = processIo, options: CliOptions = {}): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    io.out(usage + '\n');
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === 'sections')
    return (await import('./sections.js')).sectionsCommand(argv.slice(1), io, options.rules, options.docsDir);
  if (argv[0] === 'check')
    return (await import('./check.js')).checkCommand(argv.slice(1), io, options.rules, options.docsDir);
  if (argv[0] === 'link-map') return (await import('./linkMap.js')).linkMapCommand(argv.slice(1), io);
  if (argv[0] === 'fix') return (await import('./fix.js')).fixCommand(argv.slice(1), io, options.rules);
  io.err(`kbuild-diagnostics: unknown command '${argv[0]}'\n${usage}\n`);
  return 2;
}
