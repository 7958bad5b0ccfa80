// Typed registration of the custom requests declared in lspExt.ts. A handler that throws becomes
// an LSP error response; the connection stays up.
import { ResponseError, type Connection } from 'vscode-languageserver';
import type { NotificationDef, RequestDef } from '../lspExt';

export function onRequest<P, R>(connection: Connection, def: RequestDef<P, R>, handler: (params: P) => Promise<R> | R): void {
  connection.onRequest(def.method, async (params: P) => {
    try {
      return await handler(params);
    } catch (e) {
      return new ResponseError(-32603, `${def.method} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

export function sendNotification<P>(connection: Connection, def: NotificationDef<P>, params: P): void {
  void connection.sendNotification(def.method, params);
}
