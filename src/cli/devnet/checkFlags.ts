import { UsageError } from '../../core/errors.ts'
import type { DevnetFlags } from './command.ts'

/** What the devnet's flags settle once checked. */
export interface CheckedDevnetFlags {
  /** Matching reveals to verify: --quorum, or a majority of --k. */
  quorum: number
  /** $VERITASK_DEPLOYER_KEY, when set. */
  deployerKey?: `0x${string}`
}

/**
 * Checks the flags of a devnet run (not of `--serve`, which ignores the workload's flags) against
 * each other and the environment; a contradiction is a `UsageError` (exit code 2). Pure and cheap:
 * the command calls it before the network's modules load.
 */
export function checkDevnetFlags(flags: DevnetFlags, env: Readonly<Record<string, string | undefined>>): CheckedDevnetFlags {
  if (flags.sample !== undefined && flags.nodes < 2) {
    throw new UsageError('USAGE_INVALID_OPTION', '--sample needs at least 2 nodes: an executor and a verifier.', {
      hint: 'Use --nodes 5 or more, so that arbitration has three arbiters.',
    })
  }
  if (flags.k > flags.nodes) {
    throw new UsageError('USAGE_INVALID_OPTION', `--k ${flags.k} needs at least ${flags.k} nodes, but --nodes is ${flags.nodes}.`, {
      hint: `Use --nodes ${flags.k} or more, or a smaller --k.`,
    })
  }
  const quorum = flags.quorum ?? Math.floor(flags.k / 2) + 1
  if (quorum * 2 <= flags.k || quorum > flags.k) {
    throw new UsageError('USAGE_INVALID_OPTION', `--quorum ${quorum} must be a strict majority of --k ${flags.k}.`, {
      hint: `Use --quorum ${Math.floor(flags.k / 2) + 1}.`,
    })
  }
  const deployerKey = env.VERITASK_DEPLOYER_KEY
  if (deployerKey !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(deployerKey)) {
    throw new UsageError('USAGE_INVALID_OPTION', 'VERITASK_DEPLOYER_KEY is not a private key.', {
      hint: 'Set it to 0x followed by 64 hex digits, or unset it to use anvil’s first dev key.',
    })
  }
  if (flags.rpcUrl !== undefined && !flags.chain) {
    throw new UsageError('USAGE_INVALID_OPTION', '--rpc-url and --no-chain contradict each other.', { hint: 'Use one of them.' })
  }
  if (flags.processes && (!flags.chain || flags.rpcUrl !== undefined || flags.adversary !== '' || flags.sample !== undefined)) {
    throw new UsageError('USAGE_INVALID_OPTION', '--processes runs honest nodes on a spawned anvil with replication.', {
      hint: 'Leave out --no-chain, --rpc-url, --adversary and --sample with --processes.',
    })
  }
  return { quorum, ...(deployerKey === undefined ? {} : { deployerKey: deployerKey as `0x${string}` }) }
}
