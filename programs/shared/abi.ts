// The veritask program ABI (docs/wasm-abi.md), for AssemblyScript programs built with
// `--runtime stub`: memory is never freed, which is fine because every task runs in a fresh
// instance. Entry files re-export `alloc` and define `run`.

/** Called by the host to reserve `len` bytes for the input. */
export function alloc(len: i32): i32 {
  return <i32>heap.alloc(<usize>len)
}

/**
 * Reserves an output buffer of `len` bytes and returns the pointer `run` must return:
 * `[u32 little-endian length][len bytes]`. The bytes start at `outputData(ptr)`.
 */
export function allocOutput(len: i32): usize {
  const ptr = heap.alloc(4 + <usize>len)
  store<u32>(ptr, <u32>len)
  return ptr
}

@inline
export function outputData(output: usize): usize {
  return output + 4
}

/** Reads a little-endian u32 from the input; traps (via abort) when the input is too short. */
export function readU32(input: usize, len: i32, offset: i32): u32 {
  if (offset + 4 > len) abort('input too short')
  return load<u32>(input + <usize>offset)
}
