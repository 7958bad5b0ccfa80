// Command-line front end: `kbuild-diagnostics <command> ...`. Filled in by the features.
const usage = `usage: kbuild-diagnostics <command> [options]
commands:
  sections FILE...   print section tables like llvm-readelf -S (--json, --relocs)
  check [PATH...]    run the nvhe rule over a tree (--build-dir DIR, --format text|json)
  fix --form A|B FILE  apply a fix to an nvhe Makefile`;

import { sectionsCommand } from './sections';

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(usage + '\n');
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === 'sections') return sectionsCommand(argv.slice(1), { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) });
  process.stderr.write(`kbuild-diagnostics: unknown command '${argv[0]}'\n${usage}\n`);
  return 2;
}

