/**
 * The example programs shipped in programs/ (AssemblyScript, built to programs/build/ by
 * `npm run build:programs`), and their plain TypeScript reference implementations.
 */
import { readFile } from 'node:fs/promises'
import { packagePath } from '../packageFiles.ts'
import { hashChainReference } from './hashChain.ts'
import { matmulReference } from './matmul.ts'
import { wordCountReference } from './wordCount.ts'

export const EXAMPLE_PROGRAMS = ['hash-chain', 'matmul', 'word-count'] as const
export type ExampleProgramName = (typeof EXAMPLE_PROGRAMS)[number]

export function isExampleProgramName(name: string): name is ExampleProgramName {
  return (EXAMPLE_PROGRAMS as readonly string[]).includes(name)
}

/** Absolute path of `programs/build/<name>.wasm`. */
export function exampleProgramPath(name: ExampleProgramName): string {
  return packagePath('programs', 'build', `${name}.wasm`)
}

/** The program's bytes; fails with a hint when the programs have not been built. */
export async function loadExampleProgram(name: ExampleProgramName): Promise<Uint8Array> {
  const path = exampleProgramPath(name)
  try {
    return new Uint8Array(await readFile(path))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`example program ${name} is not built (${path}); run \`npm run build:programs\``, { cause: error })
    }
    throw error
  }
}

const references: Record<ExampleProgramName, (input: Uint8Array) => Uint8Array> = {
  'hash-chain': hashChainReference,
  matmul: matmulReference,
  'word-count': wordCountReference,
}

/** The output the named program must produce for `input` (throws where the program traps). */
export function runExampleReference(name: ExampleProgramName, input: Uint8Array): Uint8Array {
  return references[name](input)
}
