// "A generated file is evidence of the last build, not an input of the next one." Whether make
// would keep a Kbuild-generated output (`*.lds`, `hyp-reloc.S`, ...) or regenerate it: Kbuild's
// if_changed/if_changed_dep remake a target when a prerequisite is newer, or when the command
// differs from the one recorded in its `.<target>.cmd` (savedcmd_/cmd_, source_, deps_). Reads go
// through fs/ (regular files only, bounded); nothing recorded is ever run.
import * as path from 'node:path';
import { readRegularTextSync, statSafeSync } from '../fs/safeRead';
import { readCmdFile } from './cmdFile';

export interface GeneratedFileCheck {
  /** Make would keep the file: it exists, its .cmd exists, nothing it depends on is newer, the command matches. */
  upToDate: boolean;
  /** Why not (empty when up to date). */
  reasons: string[];
  /** The recorded command's words (first command), when the .cmd file has one. */
  recordedCommand?: string[];
  /** The prerequisites the .cmd lists (source_ and deps_), as paths relative to the build dir. */
  deps: string[];
}

/** `.<name>.cmd` beside `target` (both relative to, or absolute in, the build directory). */
export function cmdFileOf(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.cmd`);
}

/** The source_ and deps_ files a Kbuild .cmd file lists (`$(wildcard x)` entries included as x). */
export function recordedDeps(cmdText: string): string[] {
  const out: string[] = [];
  const joined = cmdText.replace(/\\\n/g, ' ');
  for (const line of joined.split('\n')) {
    const m = /^(source|deps)_\S+\s*:?=\s*(.*)$/.exec(line);
    if (!m) continue;
    const words = m[2]
      .replace(/\$\(wildcard\s+([^)]*)\)/g, ' $1 ')
      .split(/\s+/)
      .filter(Boolean);
    for (const w of words) if (!out.includes(w)) out.push(w);
  }
  return out;
}

export interface UpToDateOptions {
  /** Build directory: relative paths in the .cmd file are relative to it. */
  buildDir: string;
  /** The output, relative to buildDir (as make names it). */
  target: string;
  /** Whether the recorded command is what make would run now; absent: not compared. */
  commandMatches?: (recorded: string[]) => boolean | string;
  /** Extra prerequisites make knows from the Makefile (the rule's sources), relative to buildDir or absolute. */
  prerequisites?: string[];
}

function mtime(file: string): number | undefined {
  const st = statSafeSync(file);
  return st.ok && st.stat.isFile() ? st.stat.mtimeMs : undefined;
}

/** Whether make would leave `target` as it is (see the header). */
export function checkGeneratedFile(opts: UpToDateOptions): GeneratedFileCheck {
  const abs = (p: string): string => (path.isAbsolute(p) ? p : path.join(opts.buildDir, p));
  const reasons: string[] = [];
  const outTime = mtime(abs(opts.target));
  if (outTime === undefined)
    return { upToDate: false, reasons: [`${opts.target} does not exist (or is not a regular file)`], deps: [] };
  const cmdPath = abs(cmdFileOf(opts.target));
  const cmd = readRegularTextSync(cmdPath, { maxBytes: 16 << 20 });
  if (!cmd.ok)
    return {
      upToDate: false,
      reasons: [`${path.relative(opts.buildDir, cmdPath)} cannot be read: the last build did not finish this target`],
      deps: [],
    };
  const deps = recordedDeps(cmd.text);
  const parsed = readCmdFile(cmd.text);
  const recordedCommand = parsed.ok ? parsed.records[0]?.commands[0]?.words.map((w) => w.text) : undefined;
  const seen = new Set<string>();
  for (const dep of [...(opts.prerequisites ?? []), ...deps]) {
    if (seen.has(abs(dep))) continue; // the rule's source is usually the .cmd's source_ too
    seen.add(abs(dep));
    const t = mtime(abs(dep));
    // A missing prerequisite of a `$(wildcard)` entry is fine; a missing source makes make fail or remake.
    if (t !== undefined && t > outTime) reasons.push(`${dep} is newer than ${opts.target}`);
  }
  if (opts.commandMatches) {
    const verdict = recordedCommand ? opts.commandMatches(recordedCommand) : 'no recorded command';
    if (verdict !== true) reasons.push(`the command changed${typeof verdict === 'string' ? `: ${verdict}` : ''}`);
  }
  return { upToDate: reasons.length === 0, reasons, recordedCommand, deps };
}
