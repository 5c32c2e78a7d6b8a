import { keccak256, concat, toBytes, stringToBytes } from 'viem'
import { auditDrawOf, isAudited } from '../core/challenge.ts'
import { UsageError } from '../core/errors.ts'
import type { Signer } from '../core/signing.ts'
import { arbitrationQuorum } from '../core/task.ts'
import { decodeTensor, encodeTensor } from '../core/tensor.ts'
import type { Address, Hex, ProtocolDomain, SignedChallenge } from '../core/types.ts'
import { verifyVrfNative } from '../crypto/vrf.ts'
import type { Network } from '../ports/network.ts'
import type { ExecutionResult, Runtime } from '../ports/runtime.ts'
import { behaviours } from './behaviours.ts'
import type { Behaviour } from './behaviours.ts'
import type { TaskSeats } from './publicSeats.ts'
import { createWithholdingNetwork } from './withholdingNetwork.ts'

export { behaviours }
export type { Behaviour }

/**
 * Node behaviours for the devnet, each a wrapper around the honest runtime: what a dishonest or
 * unreliable operator could run. They exercise the protocol's defences; they are not part of it.
 */
export const behaviourDescriptions: Record<Behaviour, string> = {
  honest: 'runs every task',
  liar: 'returns random bytes instead of the result',
  colluder: 'returns a wrong result shared with the other colluders',
  'strategic-colluder': 'computes each task’s public seats and returns a wrong result shared with its coalition only where the coalition holds every seat; honest elsewhere',
  'grinding-requester':
    'a strategic colluder whose coalition includes the requester: before signing each spec the requester tries nonces until, under its best guess of the draw (the newest block’s hash), the coalition holds every seat',
  'quorum-colluder': 'computes each task’s public seats and returns a wrong result shared with its coalition wherever the coalition holds a quorum of them; honest elsewhere',
  withholder:
    'commits, then withholds its reveal where revealing would lose: lies where its coalition holds every seat and reveals the lie only if the verifier’s public draw spared it, withholds when audited, and withholds an honest commit to stall the task where the coalition holds a quorum of the seats but not all; honest elsewhere',
  'colluding-verifier':
    'computes each task’s public places (seats, verifier, arbiters) and returns a wrong result shared with its coalition, in every role, only where those places make it win for sure: every seat and the verifier’s place (an audit by its own member agrees), or a majority of the arbitration; honest elsewhere',
  'bribed-arbiter': 'honest as executor and verifier; returns the colluders’ shared wrong result when it executes a task in none of its ranked seats: as an arbiter of a dispute',
  lazy: 'skips the work and returns a cheap guess (an empty output)',
  slow: 'finishes one task in three after the commit deadline',
  offline: 'drops out after its first few tasks and never commits again',
  copier: 'skips the work and waits to copy the result another executor reveals',
  guesser: 'skips the work and answers a random class label (one byte, 0–3), as if outputs were categorical',
  noisy: 'runs the task, then adds noise of 0.01–0.05 to every element of a tensor output (flips a bit otherwise)',
  jitter: 'honest, as if on other hardware: tensor outputs differ from everyone else’s by float rounding (about 10⁻⁶ relative)',
}

/**
 * Parses `liar:2,lazy:1` into a behaviour per node: adversaries take the last nodes, honest the
 * rest. A count may be a share of the nodes, `strategic-colluder:33%` (rounded to the nearest
 * node, at least one), so that a sweep over network sizes keeps the coalition's share.
 */
export function parseAdversaries(spec: string, nodes: number): Behaviour[] {
  const assigned: Behaviour[] = []
  for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const [name, countText = '1'] = part.split(':')
    const count = adversaryCount(countText, nodes)
    if (!(behaviours as readonly string[]).includes(name ?? '') || name === 'honest' || count === undefined) {
      throw new UsageError('USAGE_INVALID_OPTION', `"${part}" is not an adversary.`, {
        hint: `Use name:count or name:percent with names ${behaviours.filter((b) => b !== 'honest').join(', ')}, e.g. --adversary liar:2,lazy:1 or --adversary strategic-colluder:33%.`,
      })
    }
    for (let i = 0; i < count; i++) assigned.push(name as Behaviour)
  }
  if (assigned.length > nodes) {
    throw new UsageError('USAGE_INVALID_OPTION', `${assigned.length} adversaries do not fit in ${nodes} nodes.`, {
      hint: 'Add nodes with --nodes or name fewer adversaries.',
    })
  }
  return [...Array<Behaviour>(nodes - assigned.length).fill('honest'), ...assigned]
}

/** `3`, or `33%` of `nodes` (rounded, at least one); undefined unless a positive whole count or a share in (0, 100]. */
function adversaryCount(text: string, nodes: number): number | undefined {
  const share = /^(\d+(?:\.\d+)?)%$/.exec(text)
  if (share !== null) {
    const percent = Number(share[1])
    return percent > 0 && percent <= 100 ? Math.max(1, Math.round((nodes * percent) / 100)) : undefined
  }
  const count = /^\d+$/.test(text) ? Number(text) : Number.NaN
  return Number.isInteger(count) && count >= 1 ? count : undefined
}

/**
 * Results as they become public (revealed and served by content id), keyed by program and input:
 * what a copier can see. A copier learns a result only after the commit phase has closed.
 */
export interface PublicResults {
  /** Resolves with the output once some executor has revealed one for this program and input. */
  wait(programId: string, input: Uint8Array): Promise<Uint8Array>
}

export function createPublicResults() {
  const known = new Map<string, Uint8Array>()
  const waiting = new Map<string, Array<(output: Uint8Array) => void>>()
  const key = (programId: string, input: Uint8Array) => `${programId}:${keccak256(input)}`
  return {
    publish(programId: string, input: Uint8Array, output: Uint8Array): void {
      const k = key(programId, input)
      if (known.has(k)) return
      known.set(k, output)
      for (const resolve of waiting.get(k) ?? []) resolve(output)
      waiting.delete(k)
    },
    wait(programId: string, input: Uint8Array): Promise<Uint8Array> {
      const k = key(programId, input)
      const output = known.get(k)
      if (output !== undefined) return Promise.resolve(output)
      return new Promise((resolve) => waiting.set(k, [...(waiting.get(k) ?? []), resolve]))
    },
  }
}

export interface BehaviourOptions {
  /** Seeds the liar's random bytes and the colluders' shared answer. */
  seed: string
  /** How long the slow node takes over its late tasks, in ms (beyond the commit window). */
  slowDelayMs: number
  /** Tasks an offline node runs before it drops out. */
  offlineAfter: number
  /** Where a copier looks for results to copy. */
  publicResults: PublicResults
  /** The nodes cast in the same strategic behaviour as this one (its own address included). */
  coalition?: ReadonlySet<Address>
  /** A task's first-stage seats from public data (`createPublicSeats`); a strategic node without it is honest. */
  seatsOf?: (taskId: Hex) => TaskSeats | undefined
  /** This node's own address: which of a task's places it holds. A strategy that needs it is honest without it. */
  self?: Address
  /** The audit draws this node's transport has seen (withholder, bribed arbiter). */
  audits?: AuditBook
}

export interface CastBehavioursParameters {
  behaviours: readonly Behaviour[]
  seed: string
  commitWindowMs: number
  /** Node i's address: who is in which coalition. The strategic behaviours are honest without it. */
  addresses?: readonly Address[]
  /** A task's first-stage seats, computed from public data as nodes do (`createPublicSeats`). */
  seatsOf?: (taskId: Hex) => TaskSeats | undefined
}

/** What a node's transport wrapper needs: its account (to sign a batch again) and the protocol domain. */
export interface TransportContext {
  signer: Signer
  domain: ProtocolDomain
}

/**
 * The runtimes of a network whose node `i` behaves as `behaviours[i]` (honest past the list's
 * end): `wrap(i, runtime)` gives node i its own wrapper of a shared runtime. The in-process devnet
 * and the live local network both cast their adversaries here, so one `--adversary` means the same
 * on both.
 */
export function castBehaviours({ behaviours, seed, commitWindowMs, addresses = [], seatsOf }: CastBehavioursParameters) {
  const publicResults = createPublicResults()
  const options: BehaviourOptions = { seed, slowDelayMs: commitWindowMs + 250, offlineAfter: 3, publicResults, ...(seatsOf === undefined ? {} : { seatsOf }) }
  const behaviourOf = (i: number): Behaviour => behaviours[i] ?? 'honest'
  /** The addresses of every node cast as `behaviour`: one coalition per strategic behaviour. */
  const coalitionOf = (behaviour: Behaviour) => new Set(addresses.filter((_, j) => behaviourOf(j) === behaviour))
  const perNode = new Map<number, BehaviourOptions>()
  /** Node i's options, one object per node: its runtimes and its transport share its audit book. */
  const optionsOf = (i: number): BehaviourOptions => {
    const known = perNode.get(i)
    if (known !== undefined) return known
    const own: BehaviourOptions = {
      ...options,
      coalition: coalitionOf(behaviourOf(i)),
      ...(addresses[i] === undefined ? {} : { self: addresses[i] }),
      audits: createAuditBook(seatsOf),
    }
    perNode.set(i, own)
    return own
  }
  return {
    /** Verified results, published as they are decided: the copier's only source. */
    publicResults,
    behaviourOf,
    wrap: (i: number, runtime: Runtime): Runtime => withBehaviour(runtime, behaviourOf(i), optionsOf(i)),
    /**
     * Node i's transport: a withholder's own reveals go through its strategy (`isWithheld`),
     * every other node's transport is left as it is. The node code is the honest one either way.
     */
    transport: (i: number, network: Network, { signer, domain }: TransportContext): Network => {
      const behaviour = behaviourOf(i)
      if (behaviour !== 'withholder' && behaviour !== 'bribed-arbiter') return network
      const own = optionsOf(i)
      const audits = own.audits!
      // A bribed arbiter only reads the challenges (was its verifier's place called to audit?); a withholder also keeps reveals back.
      const withholds = behaviour === 'withholder' ? (taskId: Hex) => isWithheld(coalitionStanding(own, taskId), audits.audited(taskId)) : () => false
      return createWithholdingNetwork({ network, signer, domain, withholds, onChallenge: (challenge) => audits.onChallenge(challenge) })
    },
  }
}

/** Where a coalition stands in one task, from the public ranking only (`TaskSeats`). */
export interface CoalitionStanding {
  /** Executor seats the coalition holds, of `seats`. */
  held: number
  seats: number
  quorum: number
  /** Whether the coalition holds the verifier's place. */
  holdsVerifier: boolean
  /** Whether the coalition would hold a strict majority of an arbitration among all the seats and the arbiters. */
  holdsArbitration: boolean
  /** This node's own place: an executor seat, the verifier's, or neither (an arbiter, or a backup); undefined without `self`. */
  place: 'seat' | 'verifier' | 'other' | undefined
  auditPpm: number
}

/** How a coalition stands in a task; undefined when the task's seats or the coalition are not known. */
export function coalitionStanding(options: Pick<BehaviourOptions, 'coalition' | 'seatsOf' | 'self'>, taskId: Hex | undefined): CoalitionStanding | undefined {
  const known = taskId === undefined ? undefined : options.seatsOf?.(taskId)
  const coalition = options.coalition
  if (known === undefined || coalition === undefined) return undefined
  const held = known.seats.filter((a) => coalition.has(a)).length
  const arbiters = known.arbiters ?? []
  const { self } = options
  return {
    held,
    seats: known.seats.length,
    quorum: known.quorum,
    holdsVerifier: known.verifier !== undefined && coalition.has(known.verifier),
    // An arbitration's votes are its seats (`arbitrationVotes`): the coalition's share of them, whoever commits.
    holdsArbitration: arbiters.filter((a) => coalition.has(a)).length >= arbitrationQuorum(arbiters.length),
    place: self === undefined ? undefined : known.seats.includes(self) ? 'seat' : known.verifier === self ? 'verifier' : 'other',
    auditPpm: known.auditPpm ?? 0,
  }
}

/**
 * The colluding verifier's rule: lie, in whatever role the node executes the task, only where the
 * coalition's public places make the lie win whatever the draws: every executor seat and the
 * verifier's place (no honest node commits; an audit, drawn or not, is its own member's and
 * agrees), or a strict majority of the arbitration a dispute would draw.
 */
export function isCertainWin(standing: CoalitionStanding | undefined): boolean {
  if (standing === undefined) return false
  return (standing.held === standing.seats && (standing.holdsVerifier || standing.auditPpm === 0)) || standing.holdsArbitration
}

/**
 * The withholder's choice for one of its own reveals, given where its coalition stands and what
 * the task's challenge drew (`audited`: undefined while no challenge was seen). Withholding is
 * slashed like a dissent once any committer reveals, so it only pays where revealing would lose
 * anyway or where silence changes the outcome:
 * - every seat held (where it committed the coalition's lie): reveal only when a challenge spared
 *   the seats; audited (or no challenge: the next node audits), the lie would lose the
 *   arbitration, so withhold, which leaves the auditor alone short of the quorum: `unresolved`;
 * - a quorum of the seats held, not all (where it committed the true result): withhold, so the
 *   honest seats alone stay below the quorum and the task ends `unresolved`, the one harm a
 *   minority of the seats can still do to the requester;
 * - fewer: reveal, since the honest seats reach the quorum without it and silence would only cost it.
 * Reveals as verifier or arbiter always go out.
 */
export function isWithheld(standing: CoalitionStanding | undefined, audited: boolean | undefined): boolean {
  if (standing === undefined || standing.place !== 'seat') return false
  if (standing.held === standing.seats) return standing.auditPpm > 0 && audited !== false
  return standing.held >= standing.quorum
}

/** The audit draws one node has seen, from every task's public challenge, decided as the nodes decide them. */
export interface AuditBook {
  onChallenge(challenge: SignedChallenge): void
  /** Whether the task's challenge called an audit; undefined while no challenge with a valid draw was seen. */
  audited(taskId: Hex): boolean | undefined
}

export function createAuditBook(seatsOf?: (taskId: Hex) => TaskSeats | undefined): AuditBook {
  const audited = new Map<Hex, boolean>()
  return {
    onChallenge(challenge) {
      const { taskId } = challenge.message
      if (audited.has(taskId)) return
      const draw = auditDrawOf(challenge, verifyVrfNative)
      if (draw !== undefined) audited.set(taskId, isAudited(draw, seatsOf?.(taskId)?.auditPpm ?? 0))
    },
    audited: (taskId) => audited.get(taskId),
  }
}

/** Wraps the honest runtime in a behaviour. */
export function withBehaviour(runtime: Runtime, behaviour: Behaviour, options: BehaviourOptions): Runtime {
  if (behaviour === 'honest') return runtime
  let calls = 0
  const ok = (output: Uint8Array): ExecutionResult => ({ status: 'ok', output, fuelUsed: 0n })
  // The same wrong answer for the same task on every colluder: they agree with each other.
  const sharedLie = (input: Uint8Array) => ok(toBytes(keccak256(concat([stringToBytes(`${options.seed}/collude`), input]))))
  const execute: Runtime['execute'] = async (request, opts) => {
    calls++
    switch (behaviour) {
      case 'liar':
        return ok(toBytes(keccak256(stringToBytes(`${options.seed}/lie/${calls}/${Math.random()}`))))
      case 'colluder':
        return sharedLie(request.input)
      case 'strategic-colluder':
      case 'grinding-requester': {
        // Lies only where nobody outside the coalition holds a seat: no dispute, nobody to outvote it.
        const held = coalitionStanding(options, request.taskId)
        return held !== undefined && held.held === held.seats ? sharedLie(request.input) : runtime.execute(request, opts)
      }
      case 'quorum-colluder': {
        // The first protocol's attack: a quorum of the seats outvoted the rest. The coalition keeps
        // its story as arbiters too (the same task, the same seats), and loses the arbitration.
        const held = coalitionStanding(options, request.taskId)
        return held !== undefined && held.held >= held.quorum ? sharedLie(request.input) : runtime.execute(request, opts)
      }
      case 'withholder': {
        // Commits the lie only in its own seat of a task whose every seat the coalition holds; its
        // transport decides whether the reveal goes out (`isWithheld`).
        const standing = coalitionStanding(options, request.taskId)
        return standing?.place === 'seat' && standing.held === standing.seats ? sharedLie(request.input) : runtime.execute(request, opts)
      }
      case 'colluding-verifier':
        // The same answer in every role of the task: executor, auditor, arbiter.
        return isCertainWin(coalitionStanding(options, request.taskId)) ? sharedLie(request.input) : runtime.execute(request, opts)
      case 'bribed-arbiter': {
        // Outside its seats it executes only as an arbiter of a dispute (or, rarely, as a backup);
        // in the verifier's place, as an arbiter too once the challenge spared the seats (else it
        // is the auditor, and stays honest). There it sides with the colluders' shared answer.
        const place = coalitionStanding(options, request.taskId)?.place
        const arbitrating = place === 'other' || (place === 'verifier' && request.taskId !== undefined && options.audits?.audited(request.taskId) === false)
        return arbitrating ? sharedLie(request.input) : runtime.execute(request, opts)
      }
      case 'lazy':
        return ok(new Uint8Array(0))
      case 'slow': {
        const result = await runtime.execute(request, opts)
        if (calls % 3 === 0) await new Promise((resolve) => setTimeout(resolve, options.slowDelayMs))
        return result
      }
      case 'offline':
        if (calls > options.offlineAfter) return new Promise<never>(() => {})
        return runtime.execute(request, opts)
      case 'copier':
        return ok(await options.publicResults.wait(request.programId, request.input))
      case 'noisy': {
        const result = await runtime.execute(request, opts)
        return result.status === 'ok' ? ok(addNoise(result.output, `${options.seed}/noise/${calls}`)) : result
      }
      case 'jitter': {
        const result = await runtime.execute(request, opts)
        return result.status === 'ok' ? ok(addJitter(result.output)) : result
      }
      case 'guesser':
        // Right only when the real output happens to be that one byte: with categorical outputs
        // (model inference) a guess is right 1 time in the number of classes.
        return ok(new Uint8Array([Math.floor(Math.random() * 4)]))
    }
  }
  return { name: runtime.name, execute, close: () => runtime.close() }
}

/**
 * What another CPU or execution provider might return: every element of a tensor moved by about
 * 10⁻⁶ of its value (a few float32 steps). Bytes that are not a tensor are left alone.
 */
export function addJitter(output: Uint8Array): Uint8Array {
  try {
    const { dims, data } = decodeTensor(output)
    return encodeTensor({ dims, data: data.map((v) => v + v * 2 ** -20) })
  } catch {
    return output
  }
}

/**
 * A wrong answer that looks right: each element of a tensor moved by 0.01–0.05 either way (far
 * outside a tight tolerance, yet the argmax often survives), or one flipped bit of other bytes.
 */
export function addNoise(output: Uint8Array, seed: string): Uint8Array {
  const bytes = toBytes(keccak256(stringToBytes(seed)))
  let tensor: ReturnType<typeof decodeTensor>
  try {
    tensor = decodeTensor(output)
  } catch {
    const flipped = output.length === 0 ? new Uint8Array([1]) : output.slice()
    if (output.length > 0) flipped[bytes[0]! % flipped.length]! ^= 1 << (bytes[1]! % 8)
    return flipped
  }
  const data = tensor.data.map((v, i) => {
    const b = bytes[i % bytes.length]!
    const size = 0.01 + ((b & 0x7f) / 0x7f) * 0.04
    return b & 0x80 ? v + size : v - size
  })
  return encodeTensor({ dims: tensor.dims, data })
}
