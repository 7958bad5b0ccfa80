// Build tasks ("Kbuild: build <dir>") and the "rebuild to confirm" command. The server computes the
// command line from what the build directory records; this file only turns it into a VS Code task
// (a ProcessExecution of make, with the $kbuild problem matcher) and hands it to VS Code's task
// system, which runs it on the user's action only and refuses in untrusted workspaces. The command
// is shown before it runs, as VS Code's own task providers (npm, TypeScript) show it: as the task's
// detail in the Run Task picker, and echoed by the terminal ("Executing task: make ...").
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { buildTask, buildTasks, REBUILD_COMMAND, TASK_TYPE, type BuildTaskInfo } from '../../server/src/lspExt';
import { request } from './requests';

/** What a tasks.json entry of type "kbuild" holds (package.json `taskDefinitions`). */
interface KbuildTaskDefinition extends vscode.TaskDefinition {
  /** The directory to build, relative to the kernel tree (`arch/arm64/kvm/hyp/nvhe/`). */
  directory: string;
  /** The build directory (O=), relative to the workspace folder or absolute; default: discovered. */
  buildDirectory?: string;
}

// Both, in this order: $kbuild-objects takes the object lines (no line number) that $kbuild cannot (docs/problem-matchers.md).
const PROBLEM_MATCHERS = ['$kbuild', '$kbuild-objects'];

function folderOf(info: BuildTaskInfo): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(info.sourceDir));
}

/** The VS Code task for a command the server computed; `definition` is kept (tasks.json customizations). */
function toTask(info: BuildTaskInfo, definition?: KbuildTaskDefinition, scope?: vscode.WorkspaceFolder): vscode.Task {
  const def: KbuildTaskDefinition = definition ?? { type: TASK_TYPE, directory: info.directory || '.' };
  const task = new vscode.Task(
    def,
    scope ?? folderOf(info) ?? vscode.TaskScope.Workspace,
    info.label,
    'Kbuild',
    new vscode.ProcessExecution(info.command, info.args, { cwd: info.cwd }),
    PROBLEM_MATCHERS,
  );
  task.detail = info.notes.length > 0 ? `${info.commandLine}  (${info.notes.join(' ')})` : info.commandLine;
  task.group = vscode.TaskGroup.Build;
  task.presentationOptions = { echo: true, reveal: vscode.TaskRevealKind.Always, clear: false };
  return task;
}

function isKbuildDefinition(d: vscode.TaskDefinition): d is KbuildTaskDefinition {
  return d.type === TASK_TYPE && typeof d.directory === 'string';
}

/** Runs the build task of the make file a "rebuild to confirm" diagnostic is on. */
async function rebuild(client: LanguageClient, arg: unknown): Promise<vscode.TaskExecution | undefined> {
  const makefileUri =
    typeof arg === 'object' && arg !== null && typeof (arg as { makefileUri?: unknown }).makefileUri === 'string'
      ? (arg as { makefileUri: string }).makefileUri
      : vscode.window.activeTextEditor?.document.uri.toString();
  if (!makefileUri) {
    void vscode.window.showInformationMessage('Open the make file of the directory to rebuild.');
    return undefined;
  }
  const result = await request(client, buildTask, { makefileUri });
  if (!result.task) {
    void vscode.window.showInformationMessage(result.reason ?? 'No build task for this file.');
    return undefined;
  }
  return vscode.tasks.executeTask(toTask(result.task));
}

export function registerBuildTasks(
  context: vscode.ExtensionContext,
  getClient: () => LanguageClient | undefined,
): void {
  const running = (): LanguageClient | undefined => {
    const c = getClient();
    return c?.isRunning() ? c : undefined;
  };
  const provider: vscode.TaskProvider = {
    // Nothing is offered in an untrusted workspace (VS Code would refuse to run it anyway).
    async provideTasks() {
      const client = running();
      if (!client || !vscode.workspace.isTrusted) return [];
      const { tasks } = await request(client, buildTasks, {});
      return tasks.map((t) => toTask(t));
    },
    // A tasks.json entry: the command is computed now, from what the build directory records now.
    async resolveTask(task) {
      const client = running();
      if (!client || !vscode.workspace.isTrusted || !isKbuildDefinition(task.definition)) return undefined;
      const folder = typeof task.scope === 'object' ? task.scope.uri.fsPath : undefined;
      const { task: info } = await request(client, buildTask, {
        folder,
        directory: task.definition.directory,
        buildDirectory: task.definition.buildDirectory,
      });
      return info ? toTask(info, task.definition, typeof task.scope === 'object' ? task.scope : undefined) : undefined;
    },
  };
  context.subscriptions.push(
    vscode.tasks.registerTaskProvider(TASK_TYPE, provider),
    vscode.commands.registerCommand(REBUILD_COMMAND, async (arg?: unknown) => {
      if (!vscode.workspace.isTrusted) {
        void vscode.window.showWarningMessage(
          'Kbuild Diagnostics runs builds only in trusted workspaces (Workspaces: Manage Workspace Trust).',
        );
        return undefined;
      }
      const client = running();
      if (!client) {
        void vscode.window.showWarningMessage(
          'The Kbuild Diagnostics server is not running (see the "Kbuild Diagnostics" output); try again once it has started.',
        );
        return undefined;
      }
      return rebuild(client, arg);
    }),
  );
}
