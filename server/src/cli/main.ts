// Command-line front end: `kbuild-diagnostics <command> ...`; one command, one file.
import { checkCommand } from './check';
import { fixCommand } from './fix';
import { processIo, type CliIo } from './io';
import { sectionsCommand } from './sections';

const usage = `usage: kbuild-diagnostics <command> [options]
commands:
  sections FILE...   print section tables like llvm-readelf -S (--json, --relocs)
  check [PATH...]    run the nvhe rule over a tree (--build-dir DIR, --format text|json)
  fix --form A|B FILE  apply a fix to an nvhe Makefile
exit status:
  0  nothing found (check), the command did its work (sections, fix), or --help
  1  found: check reported a problem; fix could not fix the file; sections could not read a file
  2  usage or input error: unknown command or option, missing argument, unreadable path
  3 and up are kept for other outcomes (none today)
A closed output pipe (\`check . | head -1\`) ends the command quietly with its own exit status.`;

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    io.out(usage + '\n');
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === 'sections') return sectionsCommand(argv.slice(1), io);
  if (argv[0] === 'check') return checkCommand(argv.slice(1), io);
  if (argv[0] === 'fix') return fixCommand(argv.slice(1), io);
  io.err(`kbuild-diagnostics: unknown command '${argv[0]}'\n${usage}\n`);
  return 2;
}

