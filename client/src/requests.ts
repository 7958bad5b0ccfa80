// Typed wrappers over the custom requests and notifications declared in server/src/lspExt.ts.
import type { LanguageClient } from 'vscode-languageclient/node';
import type { NotificationDef, RequestDef } from '../../server/src/lspExt';

export function request<P, R>(client: LanguageClient, def: RequestDef<P, R>, params: P): Promise<R> {
  return client.sendRequest<R>(def.method, params);
}

export function onNotification<P>(
  client: LanguageClient,
  def: NotificationDef<P>,
  handler: (params: P) => void,
): { dispose(): void } {
  return client.onNotification(def.method, handler);
}
