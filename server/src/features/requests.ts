// Typed registration of the custom requests declared in lspExt.ts, for every feature. A handler that
// throws becomes an LSP error response and the connection stays up: a ResponseError is passed on as
// it is, StaleResult (the build changed under the request) becomes ContentModified, anything else
// RequestFailed with the method named.
import {
  LSPErrorCodes,
  ResponseError,
  type CancellationToken,
  type Connection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver';
import type { NotificationDef, RequestDef } from '../lspExt';
import { errorText } from '../common/errors';

/** Thrown when the state a request read changed before it could answer; the client asks again. */
export class StaleResult extends Error {
  constructor() {
    super('stale');
  }
}

export function onRequest<P, R>(
  connection: Connection,
  def: RequestDef<P, R>,
  handler: (params: P, token: CancellationToken) => Promise<R> | R,
): void {
  connection.onRequest(def.method, async (params: P, token: CancellationToken) => {
    try {
      return await handler(params, token);
    } catch (e) {
      if (e instanceof ResponseError) return e;
      if (e instanceof StaleResult)
        return new ResponseError(LSPErrorCodes.ContentModified, `${def.method}: the build changed; ask again`);
      return new ResponseError(LSPErrorCodes.RequestFailed, `${def.method} failed: ${errorText(e)}`);
    }
  });
}

/** Waits for `p`, but gives up (the work goes on) when the request is cancelled. */
export function orCancel<T>(p: Promise<T>, token: CancellationToken): Promise<T> {
  if (token.isCancellationRequested)
    return Promise.reject(new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled'));
  return new Promise<T>((resolve, reject) => {
    const sub = token.onCancellationRequested(() =>
      reject(new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled')),
    );
    p.then(resolve, reject).finally(() => sub.dispose());
  });
}

/**
 * Sends without failing: sending fails (synchronously or not) only when the connection is closed,
 * when the client went away and there is nobody left to tell.
 */
function send(go: () => Promise<void>): void {
  try {
    go().catch(() => undefined);
  } catch {
    // closed: nothing to tell
  }
}

export function sendNotification<P>(connection: Connection, def: NotificationDef<P>, params: P): void {
  send(() => connection.sendNotification(def.method, params));
}

export function publishDiagnostics(connection: Connection, params: PublishDiagnosticsParams): void {
  send(() => connection.sendDiagnostics(params));
}
