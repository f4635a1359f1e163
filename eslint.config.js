// Type-aware lint for both packages. Runs inside `npm test`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', '**/*.d.ts', '.stockade/**', 'bench/.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    // One shape for every service: a service uses the platform (context, platform/, store/, tasks/)
    // and other services only through their `api.ts`; never the gateway's internals or app.ts.
    files: ['packages/server/src/services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/gateway/*'], message: 'services do not use gateway internals: use platform/ (errors, service, i18n)' },
            { group: ['**/app.js', '**/control.js', '**/admin.js'], message: 'services depend on context.ts, not on the composition root' },
            {
              // `../<other service>/<anything but api.js>` (the platform is at `../../`)
              regex: '^\\.\\./(?!\\.\\.)[^/]+/(?!api\\.js$)',
              message: "a service reaches another only through that service's api.ts",
            },
          ],
        },
      ],
    },
  },
  {
    // Transactions are opened with store.tx(), which guards the root connection while one is open.
    files: ['packages/server/**/*.ts'],
    ignores: ['packages/server/src/store/db.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='transaction'][arguments.length=0]",
          message: 'open transactions with store.tx(fn) (it refuses the root connection inside the transaction)',
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false }, globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
  },
);
