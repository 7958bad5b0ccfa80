// Entry point of the command line (bundled to server/out/cli.js); the commands live in cli/.
import { main } from './cli/main';
import { errorText } from './common/errors';

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`kbuild-diagnostics: ${errorText(err)}\n`);
    process.exitCode = 2;
  },
);
