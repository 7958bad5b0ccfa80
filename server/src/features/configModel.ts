// An open make document as its build configures it: the build configuration (kbuild/buildConfig.ts)
// and the document evaluated with the configuration's values bound (an option the configuration
// does not set is empty, as with Kbuild's auto.conf), everything else that comes from outside (the
// make command line, the including Makefile) left unknown. Cached per document version and
// configuration. Starting it also starts the tree's Kconfig index in the background.
import * as path from 'node:path';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { AnalysisCache } from '../analysis';
import { buildConfigurationOf, type BuildConfiguration } from '../kbuild/buildConfig';
import { objDirOf } from '../kbuild/buildModel';
import { configReferences } from '../kbuild/configRefs';
import { kconfigIndex } from '../kbuild/kconfigIndex';
import { evaluateMakefile, type Evaluation } from '../make/evaluator';
import { uriToPath, type Workspace } from '../workspace';

export interface ConfiguredModel {
  configuration: BuildConfiguration;
  evaluation: Evaluation;
  /** The file's directory relative to the tree. */
  objDir: string;
}

/** One server's configured models, by URI: kept until the version or the configuration changes, or the document closes. */
export class ConfiguredModels {
  private readonly byUri = new Map<
    string,
    { version: number; configuration: BuildConfiguration; model: ConfiguredModel }
  >();

  get(doc: TextDocument, configuration: BuildConfiguration): ConfiguredModel | undefined {
    const hit = this.byUri.get(doc.uri);
    return hit && hit.version === doc.version && hit.configuration === configuration ? hit.model : undefined;
  }

  set(doc: TextDocument, configuration: BuildConfiguration, model: ConfiguredModel): void {
    this.byUri.set(doc.uri, { version: doc.version, configuration, model });
  }

  forget(uri: string): void {
    this.byUri.delete(uri);
  }
}

/** The tree and the build configuration of a file; undefined outside a tree or without a configuration. */
export async function configurationOf(
  ws: Workspace,
  file: string,
): Promise<{ kernelRoot: string; objDir: string; configuration?: BuildConfiguration } | undefined> {
  const cache = ws.cache ?? new AnalysisCache();
  const kernelRoot = await cache.kernelRoot(file);
  if (!kernelRoot) return undefined;
  const objDir = objDirOf(kernelRoot, path.dirname(file));
  const configuration = await cache.memo(`config\0${kernelRoot}\0${objDir}`, () =>
    buildConfigurationOf(kernelRoot, objDir, {
      configured: ws.settings.buildDirectory || undefined,
      searchRoots: ws.roots,
    }),
  );
  // Lazily, in the background: the index is ready when the user asks for a definition.
  void kconfigIndex(kernelRoot, configuration?.srcArch);
  return { kernelRoot, objDir, configuration };
}

export async function configuredModel(ws: Workspace, doc: TextDocument): Promise<ConfiguredModel | undefined> {
  const file = uriToPath(doc.uri);
  const where = file ? await configurationOf(ws, file) : undefined;
  const configuration = where?.configuration;
  if (!where || !configuration) return undefined;
  const hit = ws.configuredModels.get(doc, configuration);
  if (hit) return hit;
  const { makefile } = ws.models.of(doc);
  // The options the text names (a computed name such as CONFIG_$(x) stays unknown): their value, else empty.
  const initial: Record<string, string> = {};
  for (const ref of configReferences(makefile)) initial[ref.name] = configuration.values[ref.name] ?? '';
  for (const m of doc.getText().matchAll(/\bCONFIG_[A-Za-z0-9_]+/g)) initial[m[0]] = configuration.values[m[0]] ?? '';
  const model = { configuration, evaluation: evaluateMakefile(makefile, { initial }), objDir: where.objDir };
  ws.configuredModels.set(doc, configuration, model);
  return model;
}
