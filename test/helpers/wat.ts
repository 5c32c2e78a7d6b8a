import wabtInit from 'wabt'

/** The wabt toolkit (WebAssembly text ⇄ binary), for tests that write modules by hand. */
export const wabt = await wabtInit()

/** Compiles WebAssembly text to a binary module; SIMD and threads parse so tests can refuse them. */
export function wat(source: string, options: { features?: Record<string, boolean>; debugNames?: boolean } = {}): Uint8Array {
  const module = wabt.parseWat('test.wat', source, { simd: true, threads: true, ...options.features })
  try {
    return module.toBinary({ write_debug_names: options.debugNames ?? false }).buffer
  } finally {
    module.destroy()
  }
}

/** A module with the program ABI's exports; `run` has the body given, `alloc` returns 1024. */
export function abiProgram(run: string, extra = '', memory = '(memory (export "memory") 1)'): Uint8Array {
  return wat(`(module
    ${memory}
    (func (export "alloc") (param i32) (result i32) i32.const 1024)
    (func (export "run") (param $ptr i32) (param $len i32) (result i32) ${run})
    ${extra})`)
}
