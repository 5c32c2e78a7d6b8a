export type { ExampleProgramName } from './examplePrograms.ts'
export {
  EXAMPLE_PROGRAMS,
  exampleProgramPath,
  isExampleProgramName,
  loadExampleProgram,
  runExampleReference,
} from './examplePrograms.ts'
export { hashChainInput, hashChainReference } from './hashChain.ts'
export { MATMUL_MAX_N, matmulInput, matmulReference } from './matmul.ts'
export { wordCountInput, wordCountReference } from './wordCount.ts'
