// The linker script a link will use in the next build: the build's own preprocessed `.lds` when it
// is at least as new as the `.lds.S` it is made from, else the source preprocessed as Kbuild does.
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { readRegularTextSync } from '../../fs/safeRead';
import type { BuildAccess, MakefileContext } from '../rule';
import type { OrphanLink } from './links';
import type { ScriptOverride } from './analysis';

const MAX_SCRIPT_BYTES = 4 * 1024 * 1024;

export interface ScriptText {
  /** Absolute path of what was read (the generated .lds or the .lds.S). */
  file: string;
  /** Absolute path of the source the build preprocesses (`<script>.S` in the tree), when there is one. */
  source?: string;
  text: string;
  from: 'generated' | 'preprocessed' | 'plain';
}

function mtime(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

export function scriptForLink(ctx: MakefileContext, link: OrphanLink, build: BuildAccess | undefined, override?: ScriptOverride): ScriptText | { missing: string } {
  if (!link.script) return { missing: `${link.output}: the link names no linker script (-T) this tool could read` };
  const root = ctx.kernelRoot ?? path.dirname(ctx.file);
  const source = path.join(root, link.script + '.S');
  const sourceTime = override?.file === source ? Number.POSITIVE_INFINITY : mtime(source);
  if (build) {
    const generated = path.join(build.buildDir, link.script);
    const genTime = mtime(generated);
    if (genTime !== undefined && (sourceTime === undefined || genTime >= sourceTime)) {
      const r = readRegularTextSync(generated, { maxBytes: MAX_SCRIPT_BYTES });
      if (r.ok) return { file: generated, source: sourceTime !== undefined ? source : undefined, text: r.text, from: 'generated' };
    }
  }
  if (sourceTime === undefined) {
    const plain = path.join(root, link.script);
    const r = readRegularTextSync(plain, { maxBytes: MAX_SCRIPT_BYTES });
    if (r.ok) return { file: plain, text: r.text, from: 'plain' };
    return { missing: `${link.script}: neither the script nor ${link.script}.S could be read` };
  }
  return { missing: `${link.script}.S: the script the next build uses must be preprocessed first` };
}
