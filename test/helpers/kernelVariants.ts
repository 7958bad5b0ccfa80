// Variant Linux 6.1 trees for real nvhe builds (issue 12), made by scripts/kernel-variants.sh:
// `prefix` (form A deleted), `android-split` (nvhe/Makefile + Makefile.nvhe, gen-hyprel in
// arch/arm64/tools run as $(HYPREL)), `autofdo-mainline` / `autofdo-y` (Linux 6.13's Kbuild AutoFDO
// lines backported, default $(is-kernel-object) or y). Each build takes one to three minutes on 2 cores.
// One call per variant at a time: prepareVariant resets the tree under a running build of the same variant.
// Results of the builds and what each variant changes: docs/real-builds.md.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './kernelTree';

export type Variant = 'prefix' | 'android-split' | 'autofdo-mainline' | 'autofdo-y';
/** Fix forms `scripts/kernel-variants.sh edit` writes into the variant's pipeline file. */
export type FixForm = 'A' | 'A-full' | 'noA' | 'B' | 'C' | 'v1' | 'cc-ccflags' | 'cc-instr' | 'lds-discard';

export const NVHE = 'arch/arm64/kvm/hyp/nvhe';
/** What gen-hyprel prints when the section reaches kvm_nvhe.tmp.o (every variant). */
export const GEN_HYPREL_ERROR =
  'error: arch/arm64/kvm/hyp/nvhe/kvm_nvhe.tmp.o: Unexpected SHT_REL section ".rel.llvm.call-graph-profile"';

const script = join(root, 'scripts', 'kernel-variants.sh');

function run(args: string[]): string {
  return execFileSync('bash', [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 30 * 60_000 }).trim();
}

/** Why the variants cannot be built here, or undefined when they can. */
export function variantsMissing(): string | undefined {
  for (const tool of ['clang-19', 'ld.lld-19', 'llvm-objcopy-19', 'llvm-readelf-19', 'make', 'flex', 'bison', 'bc']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  if (!existsSync('/usr/src/linux-source-6.1.tar.xz') && !process.env.KBD_LINUX_6_1)
    return 'linux-source-6.1 is not installed';
  return undefined;
}

/**
 * Prepares the variant once (cached), then resets its pipeline Makefile(s) to the variant's own state and
 * removes the nvhe outputs. Returns the tree's path.
 */
export function prepareVariant(variant: Variant): string {
  const args = ['prepare', variant];
  if (process.env.KBD_LINUX_6_1) args.push(process.env.KBD_LINUX_6_1);
  const out = run(args).split('\n');
  return out[out.length - 1];
}

/** The file that holds the pipeline and takes the fixes (nvhe/Makefile, or nvhe/Makefile.nvhe when split). */
export function pipelineFile(variant: Variant): string {
  return run(['pipeline', variant]);
}

/** Writes fix forms into the pipeline file, in order. */
export function editVariant(variant: Variant, forms: FixForm[]): void {
  run(['edit', variant, ...forms]);
}

export interface VariantBuild {
  tree: string;
  status: number;
  seconds: number;
  log: string;
}

/**
 * Builds arch/arm64/kvm/hyp/nvhe/ as the tree is now. `makeArgs` (make variables such as
 * `KCFLAGS=...`) replace the variant's default profile arguments: KCFLAGS=-fprofile-sample-use=<tree>/nvhe.prof,
 * or CLANG_AUTOFDO_PROFILE=<tree>/nvhe.prof for the autofdo variants. A failing build is a result, not an error.
 */
export function buildVariant(variant: Variant, makeArgs: string[] = []): VariantBuild {
  const out = run(['build', variant, ...makeArgs]).split('\n');
  const tree = out[out.length - 1];
  const m = /status=(\d+) seconds=([\d.]+)/.exec(out[0] ?? '');
  if (!m) throw new Error(`kernel-variants.sh build printed no status: ${out.join('\n')}`);
  return {
    tree,
    status: Number(m[1]),
    seconds: Number(m[2]),
    log: readFileSync(join(tree, '.nvhe-build.log'), 'utf8'),
  };
}

/**
 * android-split only: builds the demo pKVM module samples/pkvm-demo as an external module; its EL2 part
 * goes through nvhe/Makefile.module -> Makefile.nvhe -> gen-hyprel. The log is .module-build.log; the
 * module's pipeline objects are in samples/pkvm-demo/hyp/.
 */
export function buildModule(makeArgs: string[] = []): VariantBuild {
  const out = run(['build-module', 'android-split', ...makeArgs]).split('\n');
  const tree = out[out.length - 1];
  const m = /status=(\d+) seconds=([\d.]+)/.exec(out[0] ?? '');
  if (!m) throw new Error(`kernel-variants.sh build-module printed no status: ${out.join('\n')}`);
  return {
    tree,
    status: Number(m[1]),
    seconds: Number(m[2]),
    log: readFileSync(join(tree, '.module-build.log'), 'utf8'),
  };
}
