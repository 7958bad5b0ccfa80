// The linker script a link will use in the next build (kbuild/ldsSource.ts): the build's own
// preprocessed `.lds` when make would keep it, else its `.lds.S` preprocessed as Kbuild's cpp_lds_S
// does; a plain script in the tree when there is no `.lds.S`.
import * as path from 'node:path';
import { readRegularTextSync } from '../../fs/safeRead';
import { scriptForNextBuild } from '../../kbuild/ldsSource';
import type { BuildAccess, MakefileContext } from '../rule';
import type { OrphanLink } from './links';

const MAX_SCRIPT_BYTES = 4 * 1024 * 1024;

export interface ScriptText {
  /** Absolute path of the file the script is read from, or made from (the .lds.S). */
  file: string;
  /** Absolute path of the `.lds.S` the build preprocesses, when there is one. */
  source?: string;
  text: string;
  from: 'generated' | 'preprocessed' | 'plain';
  incomplete: string[];
}

/** `edited`: `.lds.S` files (absolute paths) as a fix would leave them. */
export function scriptForLink(
  ctx: MakefileContext,
  link: OrphanLink,
  build: BuildAccess | undefined,
  edited?: ReadonlyMap<string, string>,
): ScriptText | { missing: string } {
  if (!link.script) return { missing: `${link.output}: the link names no linker script (-T) this tool could read` };
  const root = ctx.kernelRoot ?? path.dirname(ctx.file);
  const source = path.join(root, link.script + '.S');
  const next = scriptForNextBuild(root, build?.buildDir, link.script, edited?.get(source));
  if (next) {
    const file = next.from === 'generated' ? path.join(build?.buildDir ?? root, link.script) : source;
    return {
      file,
      source,
      text: next.text,
      from: next.from,
      incomplete: next.incomplete.map((i) => `${link.script}.S: ${i}`),
    };
  }
  const plain = path.join(root, link.script);
  const edit = edited?.get(plain);
  if (edit !== undefined) return { file: plain, text: edit, from: 'plain', incomplete: [] };
  const r = readRegularTextSync(plain, { maxBytes: MAX_SCRIPT_BYTES });
  if (r.ok) return { file: plain, text: r.text, from: 'plain', incomplete: [] };
  return { missing: `${link.script}: neither the script nor ${link.script}.S could be read` };
}
