// Host tools the tests and the benchmark compare against: llvm-readelf, GNU readelf, and the real
// gen-hyprel built from a kernel tree with the host gcc (built into a cache dir, never committed).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** First candidate that runs with --version, or undefined. */
export function findTool(candidates: string[]): string | undefined {
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  return undefined;
}

export const findLlvmReadelf = (): string | undefined => findTool(['llvm-readelf-19', 'llvm-readelf']);

/**
 * Compiles arch/arm64/kvm/hyp/nvhe/gen-hyprel.c from `kernelTree` with gcc, as the kernel's hostprogs
 * rule would (only <generated/autoconf.h> is faked: CONFIG_CPU_{LITTLE,BIG}_ENDIAN). Returns the binary
 * path, or a reason when gcc or the source is missing.
 */
export function buildGenHyprel(
  kernelTree: string,
  opts: { bigEndian?: boolean; cacheDir?: string } = {},
): { path: string } | { missing: string } {
  const source = join(kernelTree, 'arch/arm64/kvm/hyp/nvhe/gen-hyprel.c');
  if (!existsSync(source)) return { missing: `${source} does not exist` };
  const gcc = findTool(['gcc', 'cc']);
  if (!gcc) return { missing: 'no host C compiler (gcc)' };
  const variant = opts.bigEndian ? 'be' : 'le';
  const dir = join(opts.cacheDir ?? join(tmpdir(), 'kbd-gen-hyprel'), variant);
  const inc = join(dir, 'include', 'generated');
  mkdirSync(inc, { recursive: true });
  writeFileSync(join(inc, 'autoconf.h'), `#define CONFIG_CPU_${opts.bigEndian ? 'BIG' : 'LITTLE'}_ENDIAN 1\n`);
  const out = join(dir, `gen-hyprel-${process.pid}`);
  const r = spawnSync(gcc, ['-O2', '-I', join(dir, 'include'), '-o', out, source], { encoding: 'utf8' });
  if (r.status !== 0) return { missing: `gcc failed to build gen-hyprel: ${r.stderr.trim()}` };
  return { path: out };
}
