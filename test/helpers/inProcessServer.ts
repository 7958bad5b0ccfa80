// The language server built in-process (createServer over a pair of streams) with a client-side
// JSON-RPC connection: features can be tested with any rule list, without spawning a process.
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import { createConnection } from 'vscode-languageserver/node';
import { createServer, type ServerOptions } from '../../server/src/createServer';

export interface InProcess {
  client: MessageConnection;
  diagnostics: Map<
    string,
    { version?: number; diagnostics: { code?: string | number; severity?: number; message: string; range: unknown }[] }
  >;
  /** Resolves when `uri` gets diagnostics that satisfy `match`. */
  waitDiagnostics(uri: string, match: (d: { code?: string | number }[]) => boolean, timeoutMs?: number): Promise<void>;
  open(file: string, text: string, version?: number): string;
  close(): void;
}

export async function startInProcess(rootPath: string, options: ServerOptions): Promise<InProcess> {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const serverConnection = createConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient));
  createServer(serverConnection, options);
  serverConnection.listen();
  const client = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  const diagnostics: InProcess['diagnostics'] = new Map();
  const waiters: (() => void)[] = [];
  client.onNotification('textDocument/publishDiagnostics', (p: { uri: string; version?: number; diagnostics: [] }) => {
    diagnostics.set(p.uri, p);
    for (const w of [...waiters]) w();
  });
  client.onRequest('window/workDoneProgress/create', () => null);
  client.onNotification('$/progress', () => undefined);
  client.listen();
  const uri = pathToFileURL(rootPath).toString();
  // processId null: the server library would otherwise poll for this (its own) process on a timer.
  await client.sendRequest('initialize', {
    processId: null,
    rootUri: uri,
    workspaceFolders: [{ uri, name: 'root' }],
    capabilities: {},
    initializationOptions: { debounceMs: 0 },
  });
  await client.sendNotification('initialized', {});
  return {
    client,
    diagnostics,
    waitDiagnostics: (u, match, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          const d = diagnostics.get(u);
          if (d && match(d.diagnostics)) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            resolve();
          }
        };
        const timer = setTimeout(
          () => reject(new Error(`no matching diagnostics for ${u} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push(check);
        check();
      }),
    open: (file, text, version = 1) => {
      const u = pathToFileURL(file).toString();
      void client.sendNotification('textDocument/didOpen', {
        textDocument: { uri: u, languageId: 'kbuild', version, text },
      });
      return u;
    },
    close: () => {
      client.dispose();
      serverConnection.dispose();
      toServer.destroy();
      toClient.destroy();
    },
  };
}
