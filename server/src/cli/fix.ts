// `kbuild-diagnostics fix [--rule ID] --fix ID [--force] [--in-place] FILE` (`--form` is `--fix`):
// applies the same edit as the editor's quick-fix, offered under the same condition (the fix clears
// the rule's finding), through fs/safeWrite: only the edited bytes change (a Latin-1 file stays
// Latin-1), a symlinked Makefile is fixed where it points and stays a link, owner and mode are kept,
// the temp file is created exclusively next to the target, a read-only file is refused unless
// --force, a file with hard links is refused unless --in-place (which rewrites the inode, keeping
// every link), and a change made while the fix was computed is detected and kept. A fix that edits
// other files too (a linker script) writes each of them the same way, before the make file, and only
// when each still holds the text the fix was computed on; if one cannot be written, the make file is not.
// Exit codes: 0 fixed or nothing to fix; 1 refused (the fix does not apply, changed, read-only,
// hard links, owner, cannot write); 2 usage, or the file cannot be read (missing, not a regular
// file, too large, unreadable, path too long).
import * as path from 'node:path';
import { AnalysisCache, buildAccessFor, makefileContext } from '../analysis';
import { safeEditFile, type SafeWriteOptions, type WriteFailure, type WriteResult } from '../fs/safeWrite';
import type { FileEdit } from '../make/edits';
import { BuildReader, kernelRootOf, objDirOf } from '../kbuild/buildModel';
import { MAX_MAKEFILE_BYTES } from '../lspExt';
import { RULES } from '../rules/registry';
import { fixesNamed, rulesFixes, type FixDef, type Rule } from '../rules/rule';
import { parseCommandArgs, usageError } from './args';
import type { CliIo } from './io';

const fixUsage = 'usage: kbuild-diagnostics fix [--rule ID] --fix ID [--force] [--in-place] FILE';
const fixOptions = {
  fix: { type: 'string' },
  form: { type: 'string' },
  rule: { type: 'string' },
  force: { type: 'boolean' },
  'in-place': { type: 'boolean' },
} as const;

/** Writes the fix's edits of another file, refusing when the file no longer holds the text they were computed on. */
async function writeOther(other: FileEdit, opts: SafeWriteOptions): Promise<WriteResult> {
  let changed = false;
  const r = await safeEditFile(
    other.file,
    ({ text }) => {
      if (text === other.oldText) return other.edits;
      changed = true;
      return undefined;
    },
    opts,
  );
  return r.ok && changed
    ? { ok: false, reason: 'changed', message: `${other.file} changed while the fix was computed; nothing written` }
    : r;
}

/** Says why nothing (or only part) was written; exit 2 for a file that cannot be a make file to edit, else 1. */
function reportWriteFailure(
  failure: WriteFailure,
  file: string,
  otherFailed: boolean,
  written: string[],
  io: CliIo,
): number {
  const hint =
    failure.reason === 'read-only'
      ? ' (--force writes it anyway)'
      : failure.reason === 'hard-links'
        ? ' (--in-place rewrites it, keeping every link)'
        : '';
  const message =
    failure.reason === 'changed' && !otherFailed
      ? `${file} changed while the fix was computed; nothing written (${failure.message})`
      : failure.message;
  const partly = written.length > 0 ? ` (already written: ${written.join(', ')})` : '';
  io.err(`kbuild-diagnostics fix: ${message}${hint}${otherFailed ? `; ${file} not written${partly}` : ''}\n`);
  return !otherFailed &&
    ['missing', 'not-regular', 'too-large', 'unreadable', 'path-too-long', 'symlink'].includes(failure.reason)
    ? 2
    : 1;
}

export async function fixCommand(args: string[], io: CliIo, rules: readonly Rule[] = RULES): Promise<number> {
  const parsed = parseCommandArgs('fix', fixUsage, fixOptions, args, io);
  if (typeof parsed === 'number') return parsed;
  const { rule: ruleId, force = false, 'in-place': inPlace = false } = parsed.values;
  const fixId = parsed.values.fix ?? parsed.values.form;
  const files = parsed.positionals;
  const known = rulesFixes(rules, ruleId);
  const chosen = fixId === undefined ? [] : fixesNamed(rules, fixId, ruleId);
  if (chosen.length === 0 || files.length !== 1) {
    const why =
      fixId === undefined
        ? 'missing --fix ID'
        : chosen.length === 0
          ? `no fix '${fixId}'${ruleId === undefined ? '' : ` in rule '${ruleId}'`}`
          : files.length === 0
            ? 'no FILE given'
            : 'one FILE at a time';
    const list = `fixes: ${known.map((k) => `${k.rule.id}/${k.def.id}`).join(', ')}`;
    return usageError('fix', `${fixUsage}   (${list})`, why, io);
  }
  const file = path.resolve(files[0]);
  let applied: { rule: Rule; def: FixDef; title: string } | undefined;
  const written: string[] = [];
  let otherFailure: WriteResult | undefined;
  const writeOpts: SafeWriteOptions = {
    force,
    hardLinks: inPlace ? 'in-place' : 'refuse',
    maxBytes: MAX_MAKEFILE_BYTES,
  };
  const result = await safeEditFile(
    file,
    async ({ text }) => {
      const root = await kernelRootOf(file);
      const access = buildAccessFor(
        root,
        objDirOf(root, path.dirname(file)),
        { reader: new BuildReader() },
        new AnalysisCache(),
      );
      const ctx = makefileContext(file, text, root, undefined, await access.findBuildDir());
      for (const c of chosen) {
        const fix = await c.rule.fix(ctx, c.def.id, access.build);
        if (fix) {
          applied = { ...c, title: fix.title ?? c.def.title };
          for (const other of fix.files ?? []) {
            const r = await writeOther(other, writeOpts);
            if (!r.ok) {
              otherFailure = r;
              return undefined;
            }
            written.push(
              r.target !== other.file ? `${other.file} (written to ${r.target}; the link is kept)` : other.file,
            );
          }
          return fix.edits;
        }
      }
      return undefined;
    },
    writeOpts,
  );
  const failure = otherFailure && !otherFailure.ok ? otherFailure : !result.ok ? result : undefined;
  if (failure) return reportWriteFailure(failure, files[0], otherFailure !== undefined, written, io);
  if (!result.ok) return 1;
  if (!applied) {
    io.out(`${files[0]}: nothing to fix: fix ${fixId} does not apply (no finding it clears)\n`);
    return 0;
  }
  const where = result.target !== file ? ` (written to ${result.target}; the link is kept)` : '';
  const merged =
    result.appendedBytesMerged > 0
      ? `; ${result.appendedBytesMerged} bytes another program appended meanwhile were kept`
      : '';
  const also = written.length > 0 ? `; wrote ${written.join(', ')}` : '';
  io.out(`${files[0]}: applied ${applied.rule.id} fix ${applied.def.id}: ${applied.title}${where}${merged}${also}\n`);
  return 0;
}
