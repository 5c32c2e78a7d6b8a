import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// Layering (see docs/architecture in README): arrows point inward only.
const layer = (files, forbidden, why) => ({
  files,
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
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  layer(
    ['src/core/**/*.ts'],
    ['node:*', '**/exec/**', '**/net/**', '**/node/**', '**/store/**', '**/chain/**', '**/cli/**', '**/api/**', '**/sdk/**', '**/devnet/**'],
    'core/ is pure: no IO, no adapters, no outer layers',
  ),
  layer(['src/exec/**/*.ts'], ['**/net/**', '**/node/**', '**/store/**', '**/chain/**', '**/cli/**', '**/devnet/**'], 'an adapter imports only core/'),
  layer(['src/net/**/*.ts'], ['**/exec/**', '**/node/**', '**/store/**', '**/chain/**', '**/cli/**', '**/devnet/**'], 'an adapter imports only core/'),
  layer(['src/node/**/*.ts'], ['**/cli/**', '**/devnet/**', '**/api/**', '**/sdk/**'], 'node/ composes ports; entry points sit above it'),
)
