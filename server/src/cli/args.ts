// The one argument parser of the command line: node:util parseArgs in strict mode, for every command.
// An unknown option, an option without its value (`check --build-dir`), a value that looks like an
// option (`--build-dir --format json`), an empty value (`--build-dir=`) or a value given to a flag
// (`--json=1`) is a usage error: the command's name, what is wrong and its usage on stderr, exit 2.
// `--` ends the options everywhere (`sections -- -odd-name.o`); `--help`/`-h` prints the usage.
import { parseArgs } from 'node:util';
import type { CliIo } from './io';

/** One option: a flag (boolean) or an option with a value (string); `short` is its one-letter form. */
export interface OptionDef {
  type: 'boolean' | 'string';
  short?: string;
}
export type OptionDefs = Record<string, OptionDef>;

/** What was given: each flag as a boolean, each string option as its value (the last one given). */
export type Values<O extends OptionDefs> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string;
};

export interface Parsed<O extends OptionDefs> {
  values: Values<O>;
  positionals: string[];
}

/** A command's arguments parsed, or the exit status when they were not usable (usage printed). */
export function parseCommandArgs<O extends OptionDefs>(
  command: string,
  usage: string,
  options: O,
  args: string[],
  io: CliIo,
): Parsed<O> | number {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    }) as typeof parsed;
  } catch (e) {
    // Node's own messages name the option and say how to pass a value or a name that starts with '-'.
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw e;
    return usageError(command, usage, (e as Error).message, io);
  }
  if (parsed.values.help === true) {
    io.out(usage + '\n');
    return 0;
  }
  for (const [name, value] of Object.entries(parsed.values))
    if (value === '') return usageError(command, usage, `option '--${name}' needs a value`, io);
  delete parsed.values.help;
  return parsed as Parsed<O>;
}

/** Prints a usage error (`kbuild-diagnostics CMD: WHY` and the usage) and answers exit status 2. */
export function usageError(command: string, usage: string, why: string, io: CliIo): number {
  io.err(`kbuild-diagnostics ${command}: ${why}\n${usage}\n`);
  return 2;
}
