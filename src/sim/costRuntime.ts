import { concatBytes, hexToBytes } from 'viem'
import { keccak256Bytes } from '../core/keccak.ts'
import type { Hex } from '../core/types.ts'
import type { Clock } from '../node/clock.ts'
import type { ExecutionRequest, ExecutionResult, Runtime } from '../ports/runtime.ts'

export interface CostRuntimeParameters {
  /** The simulated clock executions take their time on. */
  clock: Pick<Clock, 'setTimer'>
  /** Simulated milliseconds one execution takes on this node (its speed class). */
  costMs: number
}

export interface CostRuntime extends Runtime {
  /** Simulated milliseconds spent executing so far. */
  busyMs(): number
}

/**
 * The simulator's runtime (src/sim): no WebAssembly runs. An execution's output is the keccak of
 * the program id and the input (`costRuntimeOutput`), the same on every node, so verdicts, certificates and settlement
 * are computed on it exactly as on real outputs; it takes `costMs` of simulated time, one
 * execution at a time, as a node with one execution lane. The cost is calibrated from the real
 * runtime (docs/simulator.md).
 */
export function createCostRuntime({ clock, costMs }: CostRuntimeParameters): CostRuntime {
  let freeAt = Promise.resolve()
  let busy = 0
  return {
    name: 'wasm',
    execute(request: ExecutionRequest): Promise<ExecutionResult> {
      const output = costRuntimeOutput(request.programId, request.input)
      const done = freeAt.then(
        () =>
          new Promise<ExecutionResult>((resolve) => {
            clock.setTimer(costMs, () => {
              busy += costMs
              resolve({ status: 'ok', output, fuelUsed: 1n })
            })
          }),
      )
      freeAt = done.then(() => undefined)
      return done
    },
    busyMs: () => busy,
    async close() {},
  }
}

/** What the simulator's runtime returns for a program and an input: the true result of the task. */
export function costRuntimeOutput(programId: Hex, input: Uint8Array): Uint8Array {
  return keccak256Bytes(concatBytes([hexToBytes(programId), input]))
}
