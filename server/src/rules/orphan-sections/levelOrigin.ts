// Where a link's orphan level comes from in the build's configuration: the CONFIG_ line the Makefile
// reads (CONFIG_LD_ORPHAN_WARN_LEVEL="error"), and the option whose value decides it according to the
// tree's Kconfig (`default "error" if WERROR` -> the CONFIG_WERROR=y line).
import * as path from 'node:path';
import { readRegularTextSync } from '../../fs/safeRead';
import type { MakefileContext } from '../rule';

export interface ConfigLine {
  file: string;
  line: number;
  text: string;
}

function lineOf(file: string, text: string, name: string): ConfigLine | undefined {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`${name}=`));
  return i < 0 ? undefined : { file, line: i, text: lines[i] };
}

/** The Kconfig symbol whose `default "<level>" if SYM` gives the level (searched in init/Kconfig). */
function decidingSymbol(root: string, option: string, level: string): string | undefined {
  const r = readRegularTextSync(path.join(root, 'init', 'Kconfig'), { maxBytes: 1 << 20 });
  if (!r.ok) return undefined;
  const block = new RegExp(`^config ${option.replace(/^CONFIG_/, '')}\\n((?:[ \\t].*\\n|\\n)*)`, 'm').exec(r.text)?.[1];
  if (!block) return undefined;
  return new RegExp(`default\\s+"${level}"\\s+if\\s+([A-Za-z0-9_]+)`).exec(block)?.[1];
}

export function levelOrigin(ctx: MakefileContext, option: string | undefined, level: string): ConfigLine[] {
  const tree = ctx.tree;
  if (!option || !tree?.configSource) return [];
  const r = readRegularTextSync(tree.configSource, { maxBytes: 8 << 20 });
  if (!r.ok) return [];
  const out: ConfigLine[] = [];
  const own = lineOf(tree.configSource, r.text, option);
  if (own) out.push(own);
  const sym = decidingSymbol(tree.root, option, level);
  const decides = sym ? lineOf(tree.configSource, r.text, `CONFIG_${sym}`) : undefined;
  if (decides) out.push(decides);
  return out;
}
