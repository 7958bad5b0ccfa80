// `kbuild-diagnostics fix --form A|B FILE`: applies the same edit as the quick-fix, writing the file
// atomically (temp file + rename) and keeping its permissions and line endings.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { kernelRootOf } from '../build/buildModel';
import { ruleInputFor } from '../nvheAnalysis';
import { computeFix, type FixForm } from '../rules/nvheFixes';
import { analyzeNvhe } from '../rules/nvheProfileMetadata';
import type { CliIo } from './io';

/** Writes `text` to `file` through a temp file in the same directory and a rename. */
export async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.kbuild-diagnostics-${process.pid}.tmp`);
  try {
    await fs.writeFile(tmp, text, { mode });
    await fs.chmod(tmp, mode);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export async function fixCommand(args: string[], io: CliIo): Promise<number> {
  let form: FixForm | undefined;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--form') form = args[++i]?.toUpperCase() as FixForm;
    else if (a.startsWith('--form=')) form = a.slice('--form='.length).toUpperCase() as FixForm;
    else if (a.startsWith('-')) {
      io.err(`kbuild-diagnostics fix: unknown option ${a}\n`);
      return 2;
    } else files.push(a);
  }
  if ((form !== 'A' && form !== 'B') || files.length !== 1) {
    io.err('usage: kbuild-diagnostics fix --form A|B FILE\n');
    return 2;
  }
  const file = path.resolve(files[0]);
  let text: string;
  let mode: number;
  try {
    const st = await fs.stat(file);
    mode = st.mode & 0o7777;
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    io.err(`kbuild-diagnostics fix: ${files[0]}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const input = ruleInputFor(file, text, await kernelRootOf(file));
  const verdict = analyzeNvhe(input);
  if (!verdict) {
    io.err(`kbuild-diagnostics fix: ${files[0]} does not run gen-hyprel: not an nvhe Makefile\n`);
    return 1;
  }
  if (!verdict.leaks) {
    io.out(`${files[0]}: nothing to fix: profile metadata does not reach gen-hyprel\n`);
    return 0;
  }
  const fix = computeFix(text, input, form);
  if (!fix) {
    io.err(`kbuild-diagnostics fix: form ${form} cannot fix ${files[0]} (the edit would not stop the metadata); try the other form\n`);
    return 1;
  }
  // The file changed while we computed: refuse rather than overwrite someone's edit.
  if ((await fs.readFile(file, 'utf8')) !== text) {
    io.err(`kbuild-diagnostics fix: ${files[0]} changed while the fix was computed; nothing written\n`);
    return 1;
  }
  await writeAtomically(file, fix.newText, mode);
  io.out(`${files[0]}: applied form ${form}\n`);
  return 0;
}
