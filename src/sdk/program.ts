import { InvalidProgramError } from './errors.ts'

const MAGIC = [0x00, 0x61, 0x73, 0x6d]

/**
 * Throws an `InvalidProgramError` unless `bytes` are a WebAssembly 1.0 binary module that this
 * engine validates. The network's runtime refuses more than that (imports, features: see
 * docs/wasm-abi.md) — those show up as a `failed` outcome — but a file that is not WebAssembly
 * at all is caught here, before anything is signed or paid.
 */
export function assertWasmProgram(bytes: Uint8Array, source = 'the program'): void {
  const hint = 'Pass a compiled .wasm module (e.g. programs/build/word-count.wasm), not its source or a text file.'
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new InvalidProgramError('SDK_INVALID_PROGRAM', `${source} is not a WebAssembly module (no \\0asm header).`, {
      hint,
      details: { source, bytes: bytes.length },
    })
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new InvalidProgramError('SDK_INVALID_PROGRAM', `${source} is not a WebAssembly 1.0 binary (version ${bytes[4]}).`, { hint, details: { source } })
  }
  if (!WebAssembly.validate(bytes)) {
    throw new InvalidProgramError('SDK_INVALID_PROGRAM', `${source} has a WebAssembly header but does not validate.`, { hint, details: { source } })
  }
}
