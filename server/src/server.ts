// The language server process: the hub (createServer.ts) over the connection the client started us with.
// Over stdio the connection bounds what it buffers (transport.ts); over IPC the client is VS Code.
import { createServer } from './createServer';
import { createBoundedConnection } from './transport';

const connection = createBoundedConnection();
createServer(connection);
connection.listen();
