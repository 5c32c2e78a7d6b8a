import { defaultParams } from '../../core/params.ts'
import type { ProtocolParams } from '../../core/params.ts'

/**
 * The governed network parameters, as NetworkParameters.sol holds them. Block counts are chain
 * blocks, token amounts base units (18 decimals), shares basis points (bps) or parts per million
 * (ppm). docs/governance.md describes each one, its bounds and its effect.
 */
export interface NetworkParameterValues {
  minStake: bigint
  unbondingBlocks: bigint
  epochLength: bigint
  committeeSize: number
  replicationK: number
  replicationQuorum: number
  sampleRatePpm: number
  dissentSlashBps: number
  equivocationSlashBps: number
  executorsBps: number
  jailBlocks: bigint
  maxFuel: bigint
  maxMemoryPages: number
  maxProgramBytes: number
  maxInputBytes: number
  maxOutputBytes: number
  commitWindowMs: number
  revealWindowMs: number
  auditRatePpm: number
  minAuditPpm: number
  minFee: bigint
}

export type NetworkParameterName = keyof NetworkParameterValues

export interface NetworkParameterInfo {
  name: NetworkParameterName
  /** The id in NetworkParameters.Parameter (its position in this list). */
  id: number
  /** Whether the value is a bigint in `NetworkParameterValues` (else a safe integer number). */
  bigint: boolean
  unit: string
  description: string
}

const table: ReadonlyArray<Omit<NetworkParameterInfo, 'id'>> = [
  { name: 'minStake', bigint: true, unit: 'token base units', description: 'smallest snapshot stake that makes a node eligible for sortition and committees' },
  { name: 'unbondingBlocks', bigint: true, unit: 'blocks', description: 'wait between requestUnbond and withdraw; unbonding stake stays slashable' },
  { name: 'epochLength', bigint: true, unit: 'blocks', description: 'blocks per epoch' },
  { name: 'committeeSize', bigint: false, unit: 'members', description: 'expected size C of the epoch committee' },
  { name: 'replicationK', bigint: false, unit: 'executors', description: 'default replicate policy: executors per task' },
  { name: 'replicationQuorum', bigint: false, unit: 'reveals', description: 'default replicate policy: matching reveals for a verdict' },
  { name: 'sampleRatePpm', bigint: false, unit: 'ppm', description: 'default sample policy: probability that a result is audited' },
  { name: 'dissentSlashBps', bigint: false, unit: 'bps', description: "share of a node's stake slashed per dissenting reveal" },
  { name: 'equivocationSlashBps', bigint: false, unit: 'bps', description: "share of an equivocating committee member's bonded stake slashed" },
  { name: 'executorsBps', bigint: false, unit: 'bps', description: 'share of each fee paid to the agreeing executors; the treasury gets the rest' },
  { name: 'jailBlocks', bigint: true, unit: 'blocks', description: 'how long a jail lasts' },
  { name: 'maxFuel', bigint: true, unit: 'fuel', description: 'largest fuel limit a task may ask for' },
  { name: 'maxMemoryPages', bigint: false, unit: '64 KiB pages', description: 'largest memory limit a task may ask for' },
  { name: 'maxProgramBytes', bigint: false, unit: 'bytes', description: 'largest program' },
  { name: 'maxInputBytes', bigint: false, unit: 'bytes', description: 'largest input' },
  { name: 'maxOutputBytes', bigint: false, unit: 'bytes', description: 'largest output limit a task may ask for' },
  { name: 'commitWindowMs', bigint: false, unit: 'ms', description: 'time an executor has to commit, from the spec' },
  { name: 'revealWindowMs', bigint: false, unit: 'ms', description: 'time executors have to reveal once the commit phase closed' },
  { name: 'auditRatePpm', bigint: false, unit: 'ppm', description: "default replicate policy: probability that the verifier's draw audits unanimous seats" },
  { name: 'minAuditPpm', bigint: false, unit: 'ppm', description: 'lowest audit rate a replicated spec may ask for; nodes refuse specs below it' },
  { name: 'minFee', bigint: true, unit: 'token base units', description: 'smallest fee a spec may offer; nodes refuse specs below it' },
]

/** Every governed parameter in id order (the order of NetworkParameters.Parameter). */
export const networkParameters: readonly NetworkParameterInfo[] = Object.freeze(table.map((p, id) => Object.freeze({ ...p, id })))

/** The parameter called `name`, or undefined. */
export function findNetworkParameter(name: string): NetworkParameterInfo | undefined {
  return networkParameters.find((p) => p.name === name)
}

/** The devnet's governed values: the node defaults of core/params.ts and the devnet's economics. */
export const defaultNetworkParameters: Readonly<NetworkParameterValues> = Object.freeze({
  minStake: 100n * 10n ** 18n,
  unbondingBlocks: 120n,
  epochLength: 20n,
  committeeSize: 128,
  replicationK: defaultParams.defaultPolicy.k,
  replicationQuorum: defaultParams.defaultPolicy.quorum,
  sampleRatePpm: 50_000,
  dissentSlashBps: 1_000,
  equivocationSlashBps: 1_000,
  executorsBps: 8_000,
  jailBlocks: 100n,
  maxFuel: defaultParams.maxFuel,
  maxMemoryPages: defaultParams.maxMemoryPages,
  maxProgramBytes: defaultParams.maxProgramBytes,
  maxInputBytes: defaultParams.maxInputBytes,
  maxOutputBytes: defaultParams.maxOutputBytes,
  commitWindowMs: defaultParams.commitWindowMs,
  revealWindowMs: defaultParams.revealWindowMs,
  auditRatePpm: defaultParams.defaultPolicy.auditPpm ?? 0,
  minAuditPpm: defaultParams.minAuditPpm,
  minFee: defaultParams.minFee,
})

/** The values in id order, as NetworkParameters' constructor and `valuesAt` have them. */
export function toChainValues(values: NetworkParameterValues): bigint[] {
  return networkParameters.map((p) => BigInt(values[p.name]))
}

/** Reads `valuesAt`'s array back into named values. */
export function fromChainValues(values: readonly bigint[]): NetworkParameterValues {
  if (values.length !== networkParameters.length) {
    throw new Error(`expected ${networkParameters.length} parameter values, got ${values.length}`)
  }
  const out: Record<string, bigint | number> = {}
  for (const p of networkParameters) out[p.name] = p.bigint ? values[p.id]! : Number(values[p.id]!)
  return out as unknown as NetworkParameterValues
}

/**
 * The node-facing parameters of an epoch: the governed values where ProtocolParams has them, the
 * node's own settings (`base`) for the rest (backups, maxK, maxMessageBytes).
 */
export function toProtocolParams(values: NetworkParameterValues, base: ProtocolParams = defaultParams): ProtocolParams {
  return {
    ...base,
    defaultPolicy: { kind: 'replicate', k: values.replicationK, quorum: values.replicationQuorum, auditPpm: values.auditRatePpm },
    minAuditPpm: values.minAuditPpm,
    minFee: values.minFee,
    commitWindowMs: values.commitWindowMs,
    revealWindowMs: values.revealWindowMs,
    maxFuel: values.maxFuel,
    maxMemoryPages: values.maxMemoryPages,
    maxOutputBytes: values.maxOutputBytes,
    maxProgramBytes: values.maxProgramBytes,
    maxInputBytes: values.maxInputBytes,
  }
}

/** The governed values a node's ProtocolParams hold: what a chain must start with to run a node's settings. */
export function fromProtocolParams(params: ProtocolParams): Partial<NetworkParameterValues> {
  return {
    replicationK: params.defaultPolicy.k,
    replicationQuorum: params.defaultPolicy.quorum,
    auditRatePpm: params.defaultPolicy.auditPpm ?? 0,
    minAuditPpm: params.minAuditPpm,
    minFee: params.minFee,
    commitWindowMs: params.commitWindowMs,
    revealWindowMs: params.revealWindowMs,
    maxFuel: params.maxFuel,
    maxMemoryPages: params.maxMemoryPages,
    maxOutputBytes: params.maxOutputBytes,
    maxProgramBytes: params.maxProgramBytes,
    maxInputBytes: params.maxInputBytes,
  }
}
