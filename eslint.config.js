import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// Layering (see docs/architecture in README): arrows point inward only.
const layer = (files, forbidden, why) => ({
  files,
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: forbidden.map((group) => ({ group: [group], message: why })) },
    ],
  },
})

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'programs/', 'bench/results/', '.devnet/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // A closure may read a variable that is assigned once, after the closure was made.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  layer(
    ['src/core/**/*.ts'],
    ['node:*', '**/exec/**', '**/net/**', '**/node/**', '**/store/**', '**/chain/**', '**/cli/**', '**/api/**', '**/sdk/**', '**/devnet/**'],
    'core/ is pure: no IO, no adapters, no outer layers',
  ),
  layer(
    ['src/ports/**/*.ts', 'src/crypto/**/*.ts', 'src/programs/**/*.ts'],
    ['**/exec/**', '**/net/**', '**/node/**', '**/store/**', '**/chain/**', '**/cli/**', '**/devnet/**'],
    'ports and shared helpers import only core/',
  ),
  layer(['src/exec/**/*.ts'], ['**/net/**', '**/node/**', '**/store/**', '**/chain/**', '**/cli/**', '**/devnet/**'], 'an adapter imports only core/'),
  layer(['src/net/**/*.ts', 'src/store/**/*.ts', 'src/chain/**/*.ts'], ['**/exec/**', '**/node/**', '**/cli/**', '**/devnet/**'], 'an adapter imports only core/ and ports/'),
  layer(['src/api/**/*.ts'], ['**/cli/**', '**/devnet/**', '**/sdk/**'], 'api/ sits above node/, below the entry points'),
  layer(['src/node/**/*.ts'], ['**/cli/**', '**/devnet/**', '**/api/**', '**/sdk/**'], 'node/ composes ports; entry points sit above it'),
)
