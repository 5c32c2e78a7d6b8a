import { contentId } from '../../core/contentId.ts'
import type { Hex } from '../../core/types.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import type { InvalidProgramError } from '../errors.ts'
import { assertWasmProgram } from '../program.ts'

export interface UploadProgramParameters {
  /** The compiled WebAssembly module. */
  program: Uint8Array
}

export interface UploadProgramReturnType {
  /** The program id (keccak256 of the bytes): tasks name the program by it. */
  programId: Hex
  size: number
}

export type UploadProgramErrorType = InvalidProgramError

/**
 * Checks a program and registers it with the client, so that tasks can name it by id. A node
 * stores a program with the first task that uses it: the bytes travel with each submission, and
 * nodes fetch them from each other by id.
 *
 * @example
 * ```ts
 * const { programId } = await client.uploadProgram({ program: await readFile('word-count.wasm') })
 * await client.submitTask({ program: programId, input })
 * ```
 */
export async function uploadProgram(client: VeritaskClientBase, { program }: UploadProgramParameters): Promise<UploadProgramReturnType> {
  assertWasmProgram(program)
  const programId = contentId(program)
  client.programs.set(programId, program)
  return { programId, size: program.length }
}
