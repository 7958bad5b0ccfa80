// The section explorer view (kbuildDiagnostics.sections): build directories → objects → sections,
// all from the server's explorer requests. The client only shows and filters; no analysis here.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  addObject,
  buildChanged,
  compareObjects,
  listBuildDirectories,
  listObjects,
  listSections,
  sectionTable,
  SECTION_PAGE,
  type BuildDirectoryInfo,
  type ObjectInfo,
  type PipelineStage,
  type SectionDestination,
  type SectionInfo,
} from '../../server/src/lspExt';
import { onNotification, request } from './requests';
import { errorText } from '../../server/src/common/errors';

const VIEW_ID = 'kbuildDiagnostics.sections';
const SCHEME = 'kbuild-sections';
const REFRESH_DEBOUNCE_MS = 400;

type Node =
  | { kind: 'build'; info: BuildDirectoryInfo }
  | { kind: 'object'; info: ObjectInfo; buildUri: string }
  | { kind: 'section'; info: SectionInfo; object: ObjectInfo }
  | { kind: 'message'; text: string; parentId: string; error?: boolean }
  /** "Show more": the object has sections past the pages loaded so far. */
  | { kind: 'more'; object: ObjectInfo; left: number };

/** The pages of an object's sections loaded so far (a vmlinux.o-sized object is read page by page). */
interface SectionPages {
  sections: SectionInfo[];
  total: number;
  error?: string;
}

function themeColorId(c: vscode.ThemeColor | undefined): string | undefined {
  return c && 'id' in c ? String(c.id) : undefined;
}

function errorIcon(): vscode.ThemeIcon {
  return new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
}

function hexSize(hex: string): string {
  const n = Number.parseInt(hex, 16);
  if (!Number.isFinite(n)) return hex;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function fileSize(n: number | undefined): string {
  return n === undefined ? '' : hexSize(n.toString(16));
}

function mdEscape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}

function warningIcon(): vscode.ThemeIcon {
  return new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
}

/** A destination in a few characters: `→ .text`, `→ /DISCARD/`, `→ (orphan) .foo`. */
function destinationShort(d: SectionDestination): string {
  switch (d.kind) {
    case 'output':
      return `→ ${d.output ?? ''}`;
    case 'discard':
      return '→ /DISCARD/';
    case 'orphan':
      return `→ (orphan) ${d.output ?? ''}`;
    case 'dropped':
      return '→ (not placed)';
    case 'unknown':
      return '→ ?';
  }
}

/** One destination as a tooltip line. */
function destinationLine(d: SectionDestination): string {
  const script = d.script ? ` with \`${path.basename(d.script)}\`` : ' (no linker script)';
  const where = `In the link of \`${d.link}\`${script}: `;
  switch (d.kind) {
    case 'output':
      return `${where}output section \`${d.output ?? ''}\``;
    case 'discard':
      return `${where}discarded (\`/DISCARD/\`)`;
    case 'orphan':
      return `${where}**orphan**: no description of the script matches; the linker makes \`${d.output ?? ''}\` for it`;
    case 'dropped':
      return `${where}not placed (${mdEscape(d.why ?? '')})`;
    case 'unknown':
      return `${where}unknown (${mdEscape(d.why ?? '')})`;
  }
}

/** A read-only document URI for a section table or a comparison (query holds the object URIs). */
function tableUri(objectUri: string): vscode.Uri {
  const p = vscode.Uri.parse(objectUri).path;
  return vscode.Uri.from({
    scheme: SCHEME,
    path: `${p}.sections.txt`,
    query: new URLSearchParams({ object: objectUri }).toString(),
  });
}
function compareUri(left: string, right: string): vscode.Uri {
  const name = `${path.posix.basename(vscode.Uri.parse(left).path)} vs ${path.posix.basename(vscode.Uri.parse(right).path)}.txt`;
  return vscode.Uri.from({
    scheme: SCHEME,
    path: `/compare/${name}`,
    query: new URLSearchParams({ left, right }).toString(),
  });
}

/** A plain snapshot of what the view shows (for tests): label, description, contextValue, icon id, children. */
export interface SnapshotRow {
  label: string;
  description?: string;
  contextValue?: string;
  icon?: string;
  iconColor?: string;
  children?: SnapshotRow[];
}

class SectionsProvider implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  offendingOnly = false;
  hideDebug = false;
  private builds: Promise<BuildDirectoryInfo[]> | undefined;
  private readonly objects = new Map<string, Promise<{ objects: ObjectInfo[]; truncated?: number }>>();
  private readonly sections = new Map<string, Promise<SectionPages>>();
  view: vscode.TreeView<Node> | undefined;

  constructor(private readonly client: LanguageClient) {}

  /** Drops every cached answer and re-reads from the server (with a progress indicator on the view). */
  refresh(): Promise<void> {
    this.builds = undefined;
    this.objects.clear();
    this.sections.clear();
    this.changed.fire(undefined);
    const loading = this.loadTopLevel();
    void vscode.window.withProgress({ location: { viewId: VIEW_ID } }, () => loading);
    return loading;
  }

  /** Re-renders with the current filters (no server round trip). */
  rerender(): void {
    this.changed.fire(undefined);
    void this.updateBadge();
  }

  private getBuilds(): Promise<BuildDirectoryInfo[]> {
    this.builds ??= request(this.client, listBuildDirectories, {}).then(
      (r) => {
        void vscode.commands.executeCommand('setContext', 'kbuildDiagnostics.noBuildDirectory', r.builds.length === 0);
        return r.builds;
      },
      (e: unknown) => {
        this.builds = undefined;
        throw e;
      },
    );
    return this.builds;
  }

  getObjects(buildUri: string): Promise<{ objects: ObjectInfo[]; truncated?: number }> {
    let p = this.objects.get(buildUri);
    if (!p) {
      p = request(this.client, listObjects, { buildUri });
      this.objects.set(buildUri, p);
      p.catch(() => this.objects.delete(buildUri));
    }
    return p;
  }

  /** The first page of an object's sections (offending ones only while that filter is on). */
  private getSections(objectUri: string): Promise<SectionPages> {
    const key = `${this.offendingOnly ? 'offending' : 'all'}:${objectUri}`;
    let p = this.sections.get(key);
    if (!p) {
      p = request(this.client, listSections, {
        objectUri,
        offset: 0,
        limit: SECTION_PAGE,
        ...(this.offendingOnly ? { only: 'offending' as const } : {}),
      });
      this.sections.set(key, p);
      p.catch(() => this.sections.delete(key));
    }
    return p;
  }

  /** Loads the next page of an object's sections and shows it. */
  async loadMore(object: ObjectInfo): Promise<void> {
    const key = `${this.offendingOnly ? 'offending' : 'all'}:${object.uri}`;
    const have = await this.getSections(object.uri);
    const next = await request(this.client, listSections, {
      objectUri: object.uri,
      offset: have.sections.length,
      limit: SECTION_PAGE,
      ...(this.offendingOnly ? { only: 'offending' as const } : {}),
    });
    this.sections.set(
      key,
      Promise.resolve({ sections: [...have.sections, ...next.sections], total: next.total, error: next.error }),
    );
    this.changed.fire(undefined);
  }

  /** Build directories and their object listings: what the badge and the top level need. */
  private async loadTopLevel(): Promise<void> {
    try {
      const builds = await this.getBuilds();
      await Promise.all(builds.map((b) => this.getObjects(b.uri).catch(() => undefined)));
      await this.updateBadge();
    } catch {
      // The tree shows the error on its own.
    }
  }

  /** Every listed object of every build directory (listings already loaded or loading). */
  async allObjects(): Promise<ObjectInfo[]> {
    const builds = await this.getBuilds();
    const lists = await Promise.all(
      builds.map((b) => this.getObjects(b.uri).catch(() => ({ objects: [] as ObjectInfo[] }))),
    );
    return lists.flatMap((l) => l.objects);
  }

  private async updateBadge(): Promise<void> {
    if (!this.view) return;
    const objs = await this.allObjects().catch(() => [] as ObjectInfo[]);
    const n = objs.reduce((sum, o) => sum + (o.offendingCount ?? (o.status === 'offending' ? 1 : 0)), 0);
    this.view.badge =
      n > 0
        ? { value: n, tooltip: `${n} section${n === 1 ? '' : 's'} would break the build (see the marked sections)` }
        : undefined;
    const filters = [
      this.offendingOnly ? 'only offending sections' : '',
      this.hideDebug ? 'debug sections hidden' : '',
    ].filter(Boolean);
    this.view.message = filters.length ? `Filter: ${filters.join(', ')}` : undefined;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    try {
      if (!node) {
        const builds = await this.getBuilds();
        return builds.map((info) => ({ kind: 'build', info }));
      }
      if (node.kind === 'build') {
        const r = await this.getObjects(node.info.uri);
        let objs = r.objects;
        if (this.offendingOnly) objs = objs.filter((o) => o.status === 'offending' || o.status === 'unknown');
        const out: Node[] = objs.map((info) => ({ kind: 'object', info, buildUri: node.info.uri }));
        if (r.truncated)
          out.push({ kind: 'message', text: `… ${r.truncated} more objects not listed`, parentId: node.info.uri });
        if (out.length === 0)
          out.push({
            kind: 'message',
            text: this.offendingOnly ? 'No offending objects' : 'No pipeline objects built yet',
            parentId: node.info.uri,
          });
        return out;
      }
      if (node.kind === 'object') {
        const r = await this.getSections(node.info.uri);
        if (r.error) return [{ kind: 'message', text: r.error, parentId: node.info.uri, error: true }];
        let secs = r.sections.filter((s) => s.index !== 0);
        if (this.offendingOnly) secs = secs.filter((s) => s.offending);
        if (this.hideDebug) secs = secs.filter((s) => !s.debug);
        const out: Node[] = secs.map((info) => ({ kind: 'section', info, object: node.info }));
        if (r.total > r.sections.length)
          out.push({ kind: 'more', object: node.info, left: r.total - r.sections.length });
        return out;
      }
      return [];
    } catch (e) {
      return [
        {
          kind: 'message',
          text: `Could not list: ${errorText(e)}`,
          parentId: node ? this.idOf(node) : 'root',
          error: true,
        },
      ];
    }
  }

  private idOf(node: Node): string {
    switch (node.kind) {
      case 'build':
        return `build:${node.info.uri}`;
      case 'object':
        return `object:${node.info.uri}`;
      case 'section':
        return `section:${node.object.uri}#${node.info.index}:${node.info.name}`;
      case 'message':
        return `message:${node.parentId}:${node.text}`;
      case 'more':
        return `more:${node.object.uri}`;
    }
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'build':
        return this.buildItem(node);
      case 'object':
        return this.objectItem(node);
      case 'section':
        return this.sectionItem(node);
      case 'more':
        return this.moreItem(node);
      case 'message':
        return this.messageItem(node);
    }
  }

  private buildItem(node: Extract<Node, { kind: 'build' }>): vscode.TreeItem {
    const uri = vscode.Uri.parse(node.info.uri);
    const rel = vscode.workspace.asRelativePath(uri, true);
    const item = new vscode.TreeItem(
      rel === uri.fsPath ? path.basename(uri.fsPath) : rel,
      vscode.TreeItemCollapsibleState.Expanded,
    );
    item.id = this.idOf(node);
    item.resourceUri = uri;
    const count =
      node.info.objectCount === undefined
        ? 'scanning…'
        : `${node.info.objectCount} object${node.info.objectCount === 1 ? '' : 's'}`;
    item.description = node.info.offending ? `✖ offending · ${count}` : count;
    item.iconPath = node.info.offending ? errorIcon() : new vscode.ThemeIcon('folder-library');
    const md = new vscode.MarkdownString(`**Build directory** \`${uri.fsPath}\``);
    if (node.info.sourceUri)
      md.appendMarkdown(`\n\nbuilds the source tree \`${vscode.Uri.parse(node.info.sourceUri).fsPath}\``);
    md.appendMarkdown(`\n\n${count}${node.info.offending ? ' — **at least one object would break the build**' : ''}`);
    item.tooltip = md;
    item.contextValue = node.info.offending ? 'buildDirectory offending' : 'buildDirectory';
    return item;
  }

  private objectItem(node: Extract<Node, { kind: 'object' }>): vscode.TreeItem {
    const o = node.info;
    const offending = o.status === 'offending';
    const expand =
      offending && !!o.objectProblem
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed;
    const item = new vscode.TreeItem(path.basename(o.relativePath), expand);
    item.id = this.idOf(node);
    item.resourceUri = vscode.Uri.parse(o.uri);
    const bits: string[] = [];
    if (offending) bits.push(`✖ ${o.offendingCount ?? ''} offending`.replace('  ', ' '));
    if (o.warningCount) bits.push(`⚠ ${o.warningCount} warned`);
    if (o.stageShort) bits.push(o.stageShort);
    if (o.status === 'not-elf') bits.push('not ELF');
    if (o.status === 'error') bits.push('unreadable');
    if (o.added) bits.push('added');
    bits.push(fileSize(o.size));
    item.description = bits.filter(Boolean).join(' · ');
    item.iconPath = offending || o.status === 'error' ? errorIcon() : new vscode.ThemeIcon('file-binary');
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${mdEscape(path.basename(o.relativePath))}** — ${mdEscape(o.stageLabel || 'object')}\n\n`);
    md.appendMarkdown(`\`${vscode.Uri.parse(o.uri).fsPath}\`\n\n`);
    const facts = [
      o.size !== undefined ? `${o.size} bytes` : '',
      o.sectionCount !== undefined ? `${o.sectionCount} sections` : '',
      o.status === 'unknown' ? 'not read yet (expand to read)' : '',
    ];
    md.appendMarkdown(`${facts.filter(Boolean).join(', ')}\n\n`);
    if (o.linkedInto?.length) md.appendMarkdown(`Linked into ${o.linkedInto.map((l) => `\`${l}\``).join(', ')}\n\n`);
    if (o.problem) md.appendMarkdown(`${offending ? '$(error) ' : ''}${mdEscape(o.problem)}\n\n`);
    if (o.objectProblem) md.appendMarkdown('The build tool would print:\n\n').appendCodeblock(o.objectProblem, 'text');
    md.supportThemeIcons = true;
    item.tooltip = md;
    item.contextValue = offending ? 'object offending' : 'object';
    item.command = {
      command: 'kbuildDiagnostics.openSectionTable',
      title: 'Open Section Table',
      arguments: [node],
    };
    return item;
  }

  private sectionItem(node: Extract<Node, { kind: 'section' }>): vscode.TreeItem {
    const s = node.info;
    const item = new vscode.TreeItem(
      `${s.name}  ${s.typeName}  ${hexSize(s.size)}`,
      vscode.TreeItemCollapsibleState.None,
    );
    item.id = this.idOf(node);
    const flags = s.flagLetters.trim() ? `flags ${s.flagLetters.trim()}` : 'no flags';
    const state = s.offending ? 'breaks the build' : s.warning ? 'warned' : s.debug ? 'debug' : '';
    const dests = (s.destinations ?? []).map(destinationShort).join(', ');
    item.description = [flags, state, dests].filter(Boolean).join(' · ');
    item.iconPath = s.offending ? errorIcon() : s.warning ? warningIcon() : new vscode.ThemeIcon('symbol-field');
    const md = new vscode.MarkdownString();
    md.appendMarkdown(
      `**[${s.index}] ${mdEscape(s.name)}** in \`${mdEscape(path.basename(node.object.relativePath))}\`\n\n`,
    );
    md.appendMarkdown(
      '| Type | Address | Off | Size | ES | Flg | Lk | Inf | Al |\n|---|---|---|---|---|---|---|---|---|\n',
    );
    md.appendMarkdown(
      `| ${mdEscape(s.typeName)} (0x${s.type.toString(16)}) | ${s.address} | ${s.offset} | ${s.size} | ${s.entsize} | ${mdEscape(s.flagLetters.trim()) || '—'} | ${s.link} | ${s.info} | ${s.alignment} |\n\n`,
    );
    for (const d of s.destinations ?? []) md.appendMarkdown(`${destinationLine(d)}\n\n`);
    if (s.offending) md.appendMarkdown(`$(error) **Breaks the build:** ${mdEscape(s.offending)}\n`);
    if (s.warning) md.appendMarkdown(`$(warning) **Warned:** ${mdEscape(s.warning)}\n`);
    md.supportThemeIcons = true;
    item.tooltip = md;
    item.contextValue = s.offending ? 'section offending' : 'section';
    return item;
  }

  private moreItem(node: Extract<Node, { kind: 'more' }>): vscode.TreeItem {
    const item = new vscode.TreeItem(
      `Show ${Math.min(node.left, SECTION_PAGE)} more of ${node.left} sections…`,
      vscode.TreeItemCollapsibleState.None,
    );
    item.id = this.idOf(node);
    item.iconPath = new vscode.ThemeIcon('ellipsis');
    item.contextValue = 'more';
    item.command = {
      command: '_kbuildDiagnostics.moreSections',
      title: 'Show More Sections',
      arguments: [node.object],
    };
    return item;
  }

  private messageItem(node: Extract<Node, { kind: 'message' }>): vscode.TreeItem {
    const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
    item.id = this.idOf(node);
    item.iconPath = node.error ? new vscode.ThemeIcon('warning') : new vscode.ThemeIcon('info');
    item.contextValue = 'message';
    return item;
  }

  /** The whole tree as the view renders it, expanding build directories and objects (bounded). */
  async snapshot(maxObjects = 50): Promise<SnapshotRow[]> {
    let objectsSeen = 0;
    const walk = async (node: Node | undefined): Promise<SnapshotRow[]> => {
      const rows: SnapshotRow[] = [];
      for (const child of await this.getChildren(node)) {
        const item = this.getTreeItem(child);
        const icon = item.iconPath instanceof vscode.ThemeIcon ? item.iconPath : undefined;
        const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
        const row: SnapshotRow = {
          label,
          description: typeof item.description === 'string' ? item.description : undefined,
          contextValue: item.contextValue,
          icon: icon?.id,
          iconColor: themeColorId(icon?.color),
        };
        if (child.kind === 'build' || (child.kind === 'object' && objectsSeen++ < maxObjects))
          row.children = await walk(child);
        rows.push(row);
      }
      return rows;
    };
    return walk(undefined);
  }
}

class TableDocuments implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  constructor(private readonly client: LanguageClient) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    try {
      const object = q.get('object');
      if (object) return (await request(this.client, sectionTable, { objectUri: object, relocations: true })).text;
      const left = q.get('left');
      const right = q.get('right');
      if (left && right) return (await request(this.client, compareObjects, { leftUri: left, rightUri: right })).text;
      return `Unknown ${SCHEME} document: ${uri.toString()}\n`;
    } catch (e) {
      return `Could not read: ${errorText(e)}\n`;
    }
  }

  /** Re-reads the open documents (after a rebuild). */
  refreshOpen(): void {
    for (const d of vscode.workspace.textDocuments) if (d.uri.scheme === SCHEME) this.changed.fire(d.uri);
  }
}

function objectUriOf(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.toString();
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && 'kind' in arg) {
    const n = arg as Node;
    if (n.kind === 'object') return n.info.uri;
    if (n.kind === 'section') return n.object.uri;
  }
  return undefined;
}

async function pickObject(
  provider: SectionsProvider,
  title: string,
  exclude?: string,
  preferStage?: PipelineStage,
): Promise<string | undefined> {
  const objs = (await provider.allObjects()).filter((o) => o.uri !== exclude);
  if (objs.length === 0) {
    void vscode.window.showInformationMessage('No objects listed in the Sections view.');
    return undefined;
  }
  objs.sort((a, b) => Number(b.stage === preferStage) - Number(a.stage === preferStage));
  const picked = await vscode.window.showQuickPick(
    objs.map((o) => ({
      label: `$(${o.status === 'offending' ? 'error' : 'file-binary'}) ${path.basename(o.relativePath)}`,
      description: o.stageShort,
      detail: o.relativePath,
      uri: o.uri,
    })),
    { title, matchOnDetail: true },
  );
  return picked?.uri;
}

/**
 * Registers the view and its commands (before the server starts); call `start()` once it runs.
 * Over 80 lines: it is the one list of the view's command registrations, each a few lines long.
 */
export function registerSectionExplorer(context: vscode.ExtensionContext, client: LanguageClient): { start(): void } {
  const provider = new SectionsProvider(client);
  const docs = new TableDocuments(client);
  const view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: provider, showCollapseAll: true });
  provider.view = view;
  void vscode.commands.executeCommand('setContext', 'kbuildDiagnostics.offendingOnly', false);
  void vscode.commands.executeCommand('setContext', 'kbuildDiagnostics.hideDebugSections', false);

  let timer: NodeJS.Timeout | undefined;
  const scheduleRefresh = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      void provider.refresh();
      docs.refreshOpen();
    }, REFRESH_DEBOUNCE_MS);
  };

  context.subscriptions.push(
    view,
    { dispose: () => clearTimeout(timer) },
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, docs),
    onNotification(client, buildChanged, scheduleRefresh),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('kbuildDiagnostics.buildDirectory')) scheduleRefresh();
    }),
    vscode.commands.registerCommand('kbuildDiagnostics.refreshSections', async () => {
      await provider.refresh();
      docs.refreshOpen();
    }),
    vscode.commands.registerCommand('kbuildDiagnostics.openSectionTable', async (arg?: unknown) => {
      const objectUri = objectUriOf(arg) ?? (await pickObject(provider, 'Open the section table of'));
      if (!objectUri) return undefined;
      const doc = await vscode.workspace.openTextDocument(tableUri(objectUri));
      await vscode.window.showTextDocument(doc, { preview: true });
      return doc.uri;
    }),
    vscode.commands.registerCommand('kbuildDiagnostics.compareObjects', async (arg?: unknown, second?: unknown) => {
      const left = objectUriOf(arg) ?? (await pickObject(provider, 'Compare the sections of'));
      if (!left) return undefined;
      const leftInfo = (await provider.allObjects()).find((o) => o.uri === left);
      const right =
        objectUriOf(second) ??
        (await pickObject(
          provider,
          `Compare ${path.posix.basename(vscode.Uri.parse(left).path)} with`,
          left,
          leftInfo?.nextStage,
        ));
      if (!right) return undefined;
      const doc = await vscode.workspace.openTextDocument(compareUri(left, right));
      await vscode.window.showTextDocument(doc, { preview: true });
      return doc.uri;
    }),
    vscode.commands.registerCommand('kbuildDiagnostics.addObject', async (arg?: unknown) => {
      let uri = objectUriOf(arg);
      if (!uri) {
        const picked = await vscode.window.showOpenDialog({
          canSelectFiles: true,
          canSelectMany: false,
          title: 'Add an object to the Sections view',
          filters: { 'Object files': ['o', 'ko', 'a'], 'All files': ['*'] },
        });
        uri = picked?.[0]?.toString();
      }
      if (!uri) return false;
      const r = await request(client, addObject, { objectUri: uri });
      if (!r.ok) {
        void vscode.window.showErrorMessage(`Could not add the object: ${r.error ?? 'unknown error'}`);
        return false;
      }
      await provider.refresh();
      return true;
    }),
    // Each toggle has a second command id whose icon shows the "on" state; package.json's `when`
    // clauses show one or the other by the context key.
    ...['toggleOffendingOnly', 'toggleOffendingOnly.on'].map((id) =>
      vscode.commands.registerCommand(`kbuildDiagnostics.${id}`, () => {
        provider.offendingOnly = !provider.offendingOnly;
        void vscode.commands.executeCommand('setContext', 'kbuildDiagnostics.offendingOnly', provider.offendingOnly);
        provider.rerender();
      }),
    ),
    ...['toggleDebugSections', 'toggleDebugSections.on'].map((id) =>
      vscode.commands.registerCommand(`kbuildDiagnostics.${id}`, () => {
        provider.hideDebug = !provider.hideDebug;
        void vscode.commands.executeCommand('setContext', 'kbuildDiagnostics.hideDebugSections', provider.hideDebug);
        provider.rerender();
      }),
    ),
    vscode.commands.registerCommand('_kbuildDiagnostics.moreSections', (object: ObjectInfo) =>
      provider.loadMore(object),
    ),
    // Test hook (not in the palette): the tree as rendered, after a fresh read when asked.
    vscode.commands.registerCommand('_kbuildDiagnostics.sectionsSnapshot', async (opts?: { refresh?: boolean }) => {
      if (opts?.refresh) await provider.refresh();
      const rows = await provider.snapshot();
      return { rows, badge: view.badge?.value ?? 0, message: view.message ?? '' };
    }),
  );
  return { start: () => void provider.refresh() };
}
