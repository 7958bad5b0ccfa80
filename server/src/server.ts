// The language server process: the hub (createServer.ts) over the connection the client started us with.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { createServer } from './createServer';

const connection = createConnection(ProposedFeatures.all);
createServer(connection);
connection.listen();
