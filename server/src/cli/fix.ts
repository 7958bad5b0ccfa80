// `kbuild-diagnostics fix --form A|B [--force] [--in-place] FILE`: applies the same edit as the
// quick-fix through fs/safeWrite: only the edited bytes change (a Latin-1 file stays Latin-1), a
// symlinked Makefile is fixed where it points and stays a link, owner and mode are kept, the temp
// file is created exclusively next to the target, a read-only file is refused unless --force, a file
// with hard links is refused unless --in-place (which rewrites the inode, keeping every link), and a
// change made while the fix was computed is detected and kept.
// Exit codes: 0 fixed or nothing to fix; 1 refused (not nvhe, form cannot fix, changed, read-only,
// hard links, owner, cannot write); 2 usage, or the file cannot be read (missing, not a regular
// file, too large, unreadable, path too long).
import * as path from 'node:path';
import { kernelRootOf } from '../build/buildModel';
import { safeEditFile } from '../fs/safeWrite';
import { ruleInputFor } from '../nvheAnalysis';
import { computeFix, type FixForm } from '../rules/nvheFixes';
import { analyzeNvhe } from '../rules/nvheProfileMetadata';
import type { CliIo } from './io';

/** Largest Makefile `fix` reads (the editor does not analyze files over 4 MB). */
const MAX_FIX_BYTES = 16 * 1024 * 1024;

export async function fixCommand(args: string[], io: CliIo): Promise<number> {
  let form: FixForm | undefined;
  let force = false;
  let inPlace = false;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--form') form = args[++i]?.toUpperCase() as FixForm;
    else if (a.startsWith('--form=')) form = a.slice('--form='.length).toUpperCase() as FixForm;
    else if (a === '--force') force = true;
    else if (a === '--in-place') inPlace = true;
    else if (a.startsWith('-')) {
      io.err(`kbuild-diagnostics fix: unknown option ${a}\n`);
      return 2;
    } else files.push(a);
  }
  if ((form !== 'A' && form !== 'B') || files.length !== 1) {
    io.err('usage: kbuild-diagnostics fix --form A|B [--force] [--in-place] FILE\n');
    return 2;
  }
  const chosen: FixForm = form;
  const file = path.resolve(files[0]);
  let outcome: 'not-nvhe' | 'nothing' | 'cannot' | undefined;
  const result = await safeEditFile(
    file,
    async ({ text }) => {
      const input = ruleInputFor(file, text, await kernelRootOf(file));
      const verdict = analyzeNvhe(input);
      if (!verdict) {
        outcome = 'not-nvhe';
        return undefined;
      }
      if (!verdict.leaks) {
        outcome = 'nothing';
        return undefined;
      }
      const fix = computeFix(text, input, chosen);
      if (!fix) {
        outcome = 'cannot';
        return undefined;
      }
      return fix.edits;
    },
    { force, hardLinks: inPlace ? 'in-place' : 'refuse', maxBytes: MAX_FIX_BYTES },
  );
  if (!result.ok) {
    const hint = result.reason === 'read-only' ? ' (--force writes it anyway)' : result.reason === 'hard-links' ? ' (--in-place rewrites it, keeping every link)' : '';
    const message = result.reason === 'changed' ? `${files[0]} changed while the fix was computed; nothing written (${result.message})` : result.message;
    io.err(`kbuild-diagnostics fix: ${message}${hint}\n`);
    return ['missing', 'not-regular', 'too-large', 'unreadable', 'path-too-long', 'symlink'].includes(result.reason) ? 2 : 1;
  }
  if (outcome === 'not-nvhe') {
    io.err(`kbuild-diagnostics fix: ${files[0]} does not run gen-hyprel: not an nvhe Makefile\n`);
    return 1;
  }
  if (outcome === 'nothing') {
    io.out(`${files[0]}: nothing to fix: profile metadata does not reach gen-hyprel\n`);
    return 0;
  }
  if (outcome === 'cannot') {
    io.err(`kbuild-diagnostics fix: form ${chosen} cannot fix ${files[0]} (the edit would not stop the metadata); try the other form\n`);
    return 1;
  }
  const where = result.target !== file ? ` (written to ${result.target}; the link is kept)` : '';
  const merged = result.appendedBytesMerged > 0 ? `; ${result.appendedBytesMerged} bytes another program appended meanwhile were kept` : '';
  io.out(`${files[0]}: applied form ${chosen}${where}${merged}\n`);
  return 0;
}
