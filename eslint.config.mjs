// Typed lint: the rules that catch the bugs a proxy cannot afford (lost promises, loose equality).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // An unhandled rejection in a request path is a hung browser request.
      '@typescript-eslint/no-floating-promises': 'error',
      // A promise passed where a callback is expected loses its errors (Express handlers).
      '@typescript-eslint/no-misused-promises': 'error',
      // Every error code and key-source kind must be handled when a new one is added.
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // `==` coercion has no place in header and path checks.
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  prettier,
);
