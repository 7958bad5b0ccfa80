// The configuration a make file is built with: that of the build directory holding its directory's
// output (the setting, an O= directory found by its markers, or the tree itself), else of the first
// build directory that has one. One definition, used by every feature that shows configuration values.
import { findBuildDirectories, holdsOutput } from './buildModel';
import { readConfig } from './kbuildTree';
import { srcArchOf } from './kconfigIndex';

export interface BuildConfiguration {
  kernelRoot: string;
  buildDir: string;
  /** CONFIG_X -> value, as make sees it (auto.conf: strings without their quotes). */
  values: Record<string, string>;
  /** The file the values were read from (include/config/auto.conf or .config). */
  source: string;
  /** SRCARCH of the configuration (from the heading Kconfig writes), when it says. */
  srcArch?: string;
}

export async function buildConfigurationOf(
  kernelRoot: string,
  objDir: string,
  opts: { configured?: string; searchRoots?: string[] } = {},
): Promise<BuildConfiguration | undefined> {
  const dirs = await findBuildDirectories(kernelRoot, opts);
  const withOutput = dirs.filter((d) => holdsOutput(d, objDir));
  for (const buildDir of [...withOutput, ...dirs.filter((d) => !withOutput.includes(d))]) {
    const { config, source, arch } = readConfig(buildDir, buildDir);
    if (source) return { kernelRoot, buildDir, values: config, source, srcArch: arch ? srcArchOf(arch) : undefined };
  }
  return undefined;
}

/** How an inlay hint shows a value: y, m, a string or a number as written; `unset` when not set. */
export function configValueLabel(values: Record<string, string>, name: string): string {
  const v = values[name];
  if (v === undefined) return 'unset';
  return v === '' ? '""' : v;
}
