// `kbuild-diagnostics fix [--rule ID] --fix ID FILE` (`--form A|B` is the same as `--fix`): applies
// the same edit as the editor's quick-fix, offered under the same condition (the fix clears the
// rule's finding), writing the file atomically (temp file + rename) and keeping its permissions and
// line endings.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { makefileContext } from '../analysis';
import { kernelRootOf } from '../kbuild/buildModel';
import type { Rule } from '../rules/rule';
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

export async function fixCommand(args: string[], io: CliIo, rules: readonly Rule[]): Promise<number> {
  let fixId: string | undefined;
  let ruleId: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--form' || a === '--fix') fixId = args[++i];
    else if (a.startsWith('--form=') || a.startsWith('--fix=')) fixId = a.slice(a.indexOf('=') + 1);
    else if (a === '--rule') ruleId = args[++i];
    else if (a.startsWith('--rule=')) ruleId = a.slice('--rule='.length);
    else if (a.startsWith('-')) {
      io.err(`kbuild-diagnostics fix: unknown option ${a}\n`);
      return 2;
    } else files.push(a);
  }
  const candidates = rules.filter((r) => !ruleId || r.id === ruleId);
  const known = candidates.flatMap((r) => r.fixes.map((f) => ({ rule: r, def: f })));
  const chosen = known.filter((k) => fixId !== undefined && k.def.id.toUpperCase() === fixId.toUpperCase());
  if (chosen.length === 0 || files.length !== 1) {
    io.err(`usage: kbuild-diagnostics fix [--rule ID] --fix ID FILE   (fixes: ${known.map((k) => `${k.rule.id}/${k.def.id}`).join(', ')})\n`);
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
  const ctx = makefileContext(file, text, await kernelRootOf(file));
  for (const { rule, def } of chosen) {
    const fix = rule.fix(ctx, def.id);
    if (!fix) continue;
    // The file changed while we computed: refuse rather than overwrite someone's edit.
    if ((await fs.readFile(file, 'utf8')) !== text) {
      io.err(`kbuild-diagnostics fix: ${files[0]} changed while the fix was computed; nothing written\n`);
      return 1;
    }
    await writeAtomically(file, fix.newText, mode);
    io.out(`${files[0]}: applied ${rule.id} fix ${def.id}: ${def.title}\n`);
    return 0;
  }
  io.out(`${files[0]}: nothing to fix: fix ${fixId} does not apply (no finding it clears)\n`);
  return 0;
}
