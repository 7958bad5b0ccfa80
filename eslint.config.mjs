// ESLint flat config: typescript-eslint recommended, plus the project's boundaries:
// nothing under server/ may import `vscode` (the server is editor-neutral); server folders import
// downward only (make/elf <- kbuild <- rules <- features/cli); only the registry names a rule; the
// client imports nothing of the server but the shared protocol (lspExt.ts) and common/errors.ts; node:fs only in server/src/fs/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/out/**', 'node_modules/**', 'test/fixtures/**', '**/*.vsix', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        __dirname: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layers(),
  {
    // No function over 120 lines in the product (blank and comment lines count: a long function is long
    // to read either way). One over 80 needs a header comment saying why (checked in review).
    files: ['server/src/**/*.ts', 'client/src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 120, skipBlankLines: false, skipComments: false, IIFEs: true }],
    },
  },
  {
    files: ['client/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/server/src/**',
                '!**/server/src/lspExt',
                '!**/server/src/common',
                '!**/server/src/common/errors',
              ],
              message:
                'The client imports only the shared protocol (server/src/lspExt.ts) and the one error-text helper (server/src/common/errors.ts).',
            },
          ],
        },
      ],
    },
  },
);

/** Import rules per server folder: each may import only the folders below it. */
function layers() {
  const vscode = { name: 'vscode', message: 'server/ is editor-neutral: use LSP, not the vscode API.' };
  // The hub's own modules at server/src/, as a file one or two folders below them imports them.
  const hub = ['workspace', 'analysis', 'createServer', 'server', 'patch'].flatMap((m) => [`../${m}`, `../../${m}`]);
  const above = {
    // The generic hub and features: anything but a rule's own folder (rules/rule and rules/registry are fine).
    generic: [
      {
        group: ['**/rules/*/**', './rules/*/**'],
        message: 'Generic layers know no rule: use rules/registry and rules/rule.',
      },
    ],
    rules: ['**/features/**', '**/cli/**', ...hub],
    kbuild: ['**/rules/**', '**/features/**', '**/cli/**', ...hub],
    base: ['**/kbuild/**', '**/rules/**', '**/features/**', '**/cli/**', ...hub],
  };
  // Every open, stat, read and listing of a workspace path goes through server/src/fs/ (regular files
  // only, opened non-blocking, bounded): node:fs is imported there and nowhere else in the server.
  const fsMessage =
    'Workspace paths are input: open, stat, read and list them through server/src/fs/ (safeRead, rangeFile, walk), never node:fs.';
  const fsPaths = ['node:fs', 'fs', 'node:fs/promises', 'fs/promises'].map((name) => ({ name, message: fsMessage }));
  const rule = (patterns, { fs = false } = {}) => ({
    'no-restricted-imports': ['error', { paths: fs ? [vscode] : [vscode, ...fsPaths], patterns }],
  });
  const downward = (group) => [
    { group, message: 'Folders import downward only: make/elf <- kbuild <- rules <- features/cli.' },
  ];
  return [
    { files: ['server/**/*.ts'], rules: rule(above.generic) },
    {
      files: ['server/src/rules/**/*.ts'],
      ignores: ['server/src/rules/*/test/**'],
      rules: rule(downward(above.rules)),
    },
    // A rule's own tests make fixtures on disk.
    { files: ['server/src/rules/*/test/**'], rules: rule([], { fs: true }) },
    { files: ['server/src/kbuild/**/*.ts'], rules: rule(downward(above.kbuild)) },
    {
      files: [
        'server/src/make/**/*.ts',
        'server/src/elf/**/*.ts',
        'server/src/common/**/*.ts',
        'server/src/lds/**/*.ts',
      ],
      rules: rule(downward(above.base)),
    },
    // common/ holds the helpers every layer shares; it imports nothing of the project.
    { files: ['server/src/common/**/*.ts'], rules: rule([...above.base, '**/make/**', '**/elf/**', '**/fs/**']) },
    // fs/ is the one place that touches the file system (it imports no other server folder).
    {
      files: ['server/src/fs/**/*.ts'],
      rules: rule(
        downward(above.base).concat([{ group: ['../make/**', '../elf/**'], message: 'fs/ is the bottom layer.' }]),
        { fs: true },
      ),
    },
  ];
}
