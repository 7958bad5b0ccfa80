// Build tasks: for each directory with a finding, the `make` that rebuilds it as its build directory
// was built (kbuild/makeInvocation.ts), for the client's task provider and the "rebuild to confirm"
// code action. The server only computes the command line; VS Code's task system runs it, on the
// user's action, in trusted workspaces. KCFLAGS: the flags the rules' findings rest on
// (Rule.buildFlags) that the directory's recorded compiles (and the compile every build makes in
// `prepare`, kernel/bounds.s) received and that the tree's Kbuild does not add by itself there.
import * as path from 'node:path';
import { findBuildDirectories, holdsOutput, kernelRootOf, listBuildFiles, objDirOf } from '../kbuild/buildModel';
import type { CmdRecord } from '../kbuild/cmdFile';
import { ANY_OBJECT, compileFlags, evaluateInKbuild, objectStems } from '../kbuild/compileFlags';
import { readConfig } from '../kbuild/kbuildTree';
import { makeInvocation, shellQuote } from '../kbuild/makeInvocation';
import { compilerOfCommand } from '../kbuild/toolchain';
import { buildTask, buildTasks, type BuildTaskInfo } from '../lspExt';
import { uriToPath, type Workspace } from '../workspace';
import { onRequest } from './requests';

/** Most .cmd files of one directory read for the command (a directory has tens; vmlinux's has one). */
const MAX_CMD_FILES = 400;
/** Compiles every build of the tree makes (its `prepare` stage), where KCFLAGS are recorded too. */
const PREPARE_CMD_FILES = ['kernel/.bounds.s.cmd', 'scripts/mod/.empty.o.cmd'];

interface Recorded {
  compiles: { record: CmdRecord; words: string[]; inDirectory: boolean }[];
  link?: string[];
}

function isCompile(words: readonly string[]): boolean {
  return !!compilerOfCommand(words) && (words.includes('-c') || words.includes('-S'));
}

async function recordedCommands(ws: Workspace, buildDir: string, objDir: string): Promise<Recorded> {
  const out: Recorded = { compiles: [] };
  const { cmdFiles } = await listBuildFiles(path.join(buildDir, objDir));
  const files = [
    ...cmdFiles.slice(0, MAX_CMD_FILES).map((f) => ({ file: f, inDirectory: true })),
    ...PREPARE_CMD_FILES.map((f) => ({ file: path.join(buildDir, f), inDirectory: false })),
  ];
  for (const { file, inDirectory } of files) {
    const read = await ws.reader.readCmdFile(file);
    if (!read.ok) continue;
    for (const record of read.records)
      for (const c of record.commands) {
        const words = c.words.map((w) => w.text);
        if (isCompile(words)) out.compiles.push({ record, words, inDirectory });
        else if (!out.link && /(^|\/)([\w.-]+-)?ld(\.lld|\.bfd)?(-[0-9.]+)?$/.test(words[0] ?? '')) out.link = words;
      }
  }
  return out;
}

/** Flags the directory's Makefile and the tree's Kbuild add by themselves, per object stem (none without a Makefile). */
async function ownFlags(ws: Workspace, makefile: string | undefined): Promise<(stem: string) => Set<string>> {
  if (!makefile) return () => new Set();
  const text = await ws.textOf(makefile);
  if (!('text' in text)) return () => new Set();
  const ctx = await ws.contextOf(makefile, text.text);
  const ev = evaluateInKbuild(ctx.makefile, ctx.objDir, '', 'false', ctx.tree, ctx.surroundings);
  const stems = new Set(objectStems(ev));
  const any = new Set(compileFlags(ev, ANY_OBJECT, ctx.objDir));
  return (stem) => (stems.has(stem) ? new Set(compileFlags(ev, stem, ctx.objDir)) : any);
}

/** The user's flags to pass again: what the rules' findings rest on, less what Kbuild adds itself. */
async function kcflagsOf(
  ws: Workspace,
  rec: Recorded,
  objDir: string,
  makefile: string | undefined,
): Promise<string[]> {
  const own = await ownFlags(ws, makefile);
  const out: string[] = [];
  for (const c of rec.compiles) {
    const base = path.basename(c.record.target).replace(/\.[os]$/, '');
    const stem = objDir === '.' ? base : path.relative(objDir, c.record.target).replace(/\.[os]$/, '') || base;
    const added = c.inDirectory ? own(stem) : new Set<string>();
    for (const rule of ws.rules)
      for (const flag of rule.buildFlags?.(c.words) ?? []) if (!added.has(flag) && !out.includes(flag)) out.push(flag);
  }
  return out;
}

/** The build task of directory `objDir` of the tree `sourceDir`, built in `buildDir`. */
async function computeBuildTask(
  ws: Workspace,
  sourceDir: string,
  buildDir: string,
  objDir: string,
  makefile?: string,
): Promise<BuildTaskInfo> {
  const { config, arch } = readConfig(buildDir, sourceDir);
  const rec = await recordedCommands(ws, buildDir, objDir);
  const inDir = rec.compiles.find((c) => c.inDirectory) ?? rec.compiles[0];
  const kcflags = await kcflagsOf(ws, rec, objDir, makefile);
  const inv = makeInvocation({
    sourceDir,
    buildDir,
    directory: objDir,
    config,
    configArch: arch,
    compile: inDir?.words,
    link: rec.link,
    kcflags,
  });
  const directory = objDir === '.' ? '' : `${objDir.replace(/\/+$/, '')}/`;
  return {
    label: `build ${directory || 'all'}`,
    directory,
    sourceDir,
    buildDir,
    cwd: sourceDir,
    command: 'make',
    args: inv.args,
    commandLine: ['make', ...inv.args].map(shellQuote).join(' '),
    notes: inv.notes,
  };
}

/** The build directory of a directory: the analysis's, else the first the tree has (configured, not yet built). */
async function buildDirOf(
  ws: Workspace,
  sourceDir: string,
  objDir: string,
  known?: string,
): Promise<string | undefined> {
  if (known) return known;
  const dirs = await findBuildDirectories(sourceDir, {
    configured: ws.settings.buildDirectory || undefined,
    searchRoots: ws.roots,
  });
  return dirs.find((d) => holdsOutput(d, objDir)) ?? dirs[0];
}

export function registerBuildTasks(ws: Workspace): void {
  onRequest(ws.connection, buildTasks, async () => {
    const tasks: BuildTaskInfo[] = [];
    const seen = new Set<string>();
    for (const file of [...ws.ruleFiles].sort()) {
      const a = ws.analyses.get(file);
      if (!a?.kernelRoot || a.diagnostics.length === 0) continue;
      const buildDir = await buildDirOf(ws, a.kernelRoot, a.objDir, a.buildDir);
      const key = `${buildDir}\0${a.objDir}`;
      if (!buildDir || seen.has(key)) continue;
      seen.add(key);
      tasks.push(await computeBuildTask(ws, a.kernelRoot, buildDir, a.objDir, file));
    }
    return { tasks };
  });

  onRequest(ws.connection, buildTask, async (p) => {
    if (p.makefileUri) {
      const file = uriToPath(p.makefileUri);
      const a = file ? ws.analyses.get(file) : undefined;
      const sourceDir = a?.kernelRoot ?? (file ? await kernelRootOf(file) : undefined);
      if (!file || !sourceDir) return { task: null, reason: 'This file is not in a kernel tree.' };
      const objDir = a?.objDir ?? objDirOf(sourceDir, path.dirname(file));
      const buildDir = await buildDirOf(ws, sourceDir, objDir, a?.buildDir);
      if (!buildDir)
        return { task: null, reason: `No build directory of ${sourceDir} was found (configure it first).` };
      return { task: await computeBuildTask(ws, sourceDir, buildDir, objDir, file) };
    }
    const folder = p.folder ?? ws.roots[0];
    if (!folder) return { task: null, reason: 'No workspace folder.' };
    const sourceDir = await kernelRootOf(path.join(folder, 'Makefile'));
    if (!sourceDir) return { task: null, reason: `${folder} is not in a kernel tree.` };
    const objDir = path.normalize((p.directory ?? '.').replace(/\/+$/, '') || '.');
    if (objDir.startsWith('..') || path.isAbsolute(objDir))
      return { task: null, reason: `"directory" must be relative to the kernel tree: ${p.directory}` };
    const configured = p.buildDirectory ? path.resolve(folder, p.buildDirectory) : undefined;
    const buildDir = configured ?? (await buildDirOf(ws, sourceDir, objDir));
    if (!buildDir) return { task: null, reason: `No build directory of ${sourceDir} was found (configure it first).` };
    const makefile = [...ws.ruleFiles].find((f) => ws.analyses.get(f)?.objDir === objDir);
    return { task: await computeBuildTask(ws, sourceDir, buildDir, objDir, makefile) };
  });
}
