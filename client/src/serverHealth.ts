// Restarts a crashed server and says so once per session, instead of a dialog per crash.
import * as vscode from 'vscode';
import { CloseAction, ErrorAction, type ErrorHandler } from 'vscode-languageclient/node';

export function restartingErrorHandler(output: vscode.OutputChannel, maxRestarts = 5): ErrorHandler {
  let restarts = 0;
  let told = false;
  return {
    error: () => ({ action: ErrorAction.Continue }),
    closed: () => {
      restarts++;
      output.appendLine(`Kbuild Diagnostics server stopped unexpectedly (restart ${restarts} of ${maxRestarts}).`);
      if (!told) {
        told = true;
        void vscode.window.showWarningMessage(
          'The Kbuild Diagnostics server stopped unexpectedly and was restarted. Details are in the "Kbuild Diagnostics" output.',
        );
      }
      return restarts <= maxRestarts
        ? { action: CloseAction.Restart }
        : {
            action: CloseAction.DoNotRestart,
            message: 'Kbuild Diagnostics server crashed too often; reload the window to try again.',
          };
    },
  };
}
