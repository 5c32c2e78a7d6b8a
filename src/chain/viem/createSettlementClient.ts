import type { Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from 'viem'
import type { EpochBatch } from '../../core/epochBatch.ts'
import { outcomeCode } from '../../core/eip712.ts'
import type { Receipt } from '../../core/receipt.ts'
import { blsSignatureToEip2537, fromG1Struct, g1Struct, g2Struct } from '../../crypto/bls.ts'
import type { AggregateSignature, CommitteeMember } from '../../ports/settlement.ts'
import type { DeployedContracts } from '../deploy.ts'
import { EscrowAbi, SettlementAbi, StakeManagerAbi, TestTokenAbi } from '../generated/contracts.ts'
import { waitForReceipt } from './waitForReceipt.ts'

export type Wallet = WalletClient<Transport, Chain | undefined, Account>

export interface EpochInfo {
  epoch: bigint
  seed: Hex
  snapshotBlock: bigint
}

/** `Settlement.verifyReceipt` at the contract the receipt names: whether the chain accepts its leaf and proof. */
export async function verifyReceiptOnChain(publicClient: PublicClient, receipt: Receipt): Promise<boolean> {
  return publicClient.readContract({
    address: receipt.settlement,
    abi: SettlementAbi,
    functionName: 'verifyReceipt',
    args: [receipt.epoch, receipt.taskId, receipt.resultHash, outcomeCode[receipt.outcome], receipt.executors, receipt.proof],
  })
}

/**
 * The chain adapter: typed reads and writes of the veritask contracts through viem. Writes take
 * the wallet that sends them and resolve once mined, with the gas they used.
 */
export function createSettlementClient(publicClient: PublicClient, contracts: DeployedContracts) {
  const settlement = { address: contracts.settlement, abi: SettlementAbi } as const
  const stakeManager = { address: contracts.stakeManager, abi: StakeManagerAbi } as const
  const escrow = { address: contracts.escrow, abi: EscrowAbi } as const
  const token = { address: contracts.token, abi: TestTokenAbi } as const

  async function mined(hash: Hex, what: string): Promise<{ hash: Hex; gasUsed: bigint }> {
    const receipt = await waitForReceipt(publicClient, hash)
    if (receipt.status !== 'success') throw new Error(`${what} reverted (${hash})`)
    return { hash, gasUsed: receipt.gasUsed }
  }

  return {
    contracts,
    currentBlock: () => publicClient.getBlockNumber(),
    async epochStart(epoch: bigint): Promise<bigint> {
      return publicClient.readContract({ ...settlement, functionName: 'epochStart', args: [epoch] })
    },
    async currentEpoch(): Promise<bigint> {
      return BigInt(await publicClient.readContract({ ...settlement, functionName: 'currentEpoch' }))
    },
    /** Opens `epoch` if nobody has yet, and returns its seed and snapshot block. */
    async openEpoch(wallet: Wallet, epoch: bigint): Promise<EpochInfo> {
      const opened = await publicClient.readContract({ ...settlement, functionName: 'isEpochOpened', args: [epoch] })
      if (!opened) {
        await mined(
          await wallet.writeContract({ ...settlement, functionName: 'openEpoch', args: [epoch], chain: wallet.chain, account: wallet.account }),
          'openEpoch',
        )
      }
      const [seed, snapshotBlock] = await Promise.all([
        publicClient.readContract({ ...settlement, functionName: 'seedOf', args: [epoch] }),
        publicClient.readContract({ ...settlement, functionName: 'snapshotBlockOf', args: [epoch] }),
      ])
      return { epoch, seed, snapshotBlock: BigInt(snapshotBlock) }
    },
    async stakeAt(node: Address, block: bigint): Promise<bigint> {
      return publicClient.readContract({ ...stakeManager, functionName: 'stakeAt', args: [node, block] })
    },
    async committeeWeight(epoch: bigint, node: Address): Promise<bigint> {
      return publicClient.readContract({ ...settlement, functionName: 'committeeWeight', args: [epoch, node] })
    },
    async depositOf(requester: Address): Promise<bigint> {
      return publicClient.readContract({ ...escrow, functionName: 'depositOf', args: [requester] })
    },
    async withdrawnOf(requester: Address): Promise<bigint> {
      return publicClient.readContract({ ...escrow, functionName: 'withdrawnOf', args: [requester] })
    },
    async tokenBalance(account: Address): Promise<bigint> {
      return publicClient.readContract({ ...token, functionName: 'balanceOf', args: [account] })
    },
    async jailedUntil(node: Address): Promise<bigint> {
      return BigInt(await publicClient.readContract({ ...stakeManager, functionName: 'jailedUntil', args: [node] }))
    },
    async stakeOf(node: Address): Promise<bigint> {
      return publicClient.readContract({ ...stakeManager, functionName: 'stakeOf', args: [node] })
    },
    /**
     * The committee of `epoch`: nodes that registered a BLS key by its snapshot block (from the
     * `BlsKeyRegistered` log) with signing stake then, by increasing address. Empty until it opens.
     */
    async committee(epoch: bigint): Promise<CommitteeMember[]> {
      const opened = await publicClient.readContract({ ...settlement, functionName: 'isEpochOpened', args: [epoch] })
      if (!opened) return []
      const snapshotBlock = BigInt(await publicClient.readContract({ ...settlement, functionName: 'snapshotBlockOf', args: [epoch] }))
      const logs = await publicClient.getContractEvents({ ...stakeManager, eventName: 'BlsKeyRegistered', fromBlock: contracts.deployBlock, toBlock: snapshotBlock, strict: true })
      const members = await Promise.all(
        logs.map(async ({ args: { node, publicKey } }) => {
          const weight = await publicClient.readContract({ ...stakeManager, functionName: 'signingStakeAt', args: [node, snapshotBlock] })
          return { node, weight, publicKey: fromG1Struct(publicKey) }
        }),
      )
      return members.filter((m) => m.weight > 0n).sort((a, b) => (BigInt(a.node) < BigInt(b.node) ? -1 : 1))
    },
    /** `StakeManager.registerBlsKey` from `wallet`: its BLS public key and proof of possession (EIP-2537 encodings). */
    async registerBlsKey(wallet: Wallet, publicKey: Hex, proof: Hex) {
      return mined(
        await wallet.writeContract({
          ...stakeManager,
          functionName: 'registerBlsKey',
          args: [g1Struct(publicKey), g2Struct(proof)],
          chain: wallet.chain,
          account: wallet.account,
        }),
        'registerBlsKey',
      )
    },
    async blsKeyRegisteredAt(node: Address): Promise<bigint> {
      return BigInt(await publicClient.readContract({ ...stakeManager, functionName: 'blsKeyRegisteredAt', args: [node] }))
    },
    async submitBatch(wallet: Wallet, batch: EpochBatch, { signature, nonSigners }: AggregateSignature) {
      return mined(
        await wallet.writeContract({
          ...settlement,
          functionName: 'submitBatch',
          args: [{ ...batch, penalties: [...batch.penalties] }, g2Struct(blsSignatureToEip2537(signature)), [...nonSigners]],
          chain: wallet.chain,
          account: wallet.account,
        }),
        'submitBatch',
      )
    },
    async proveEquivocation(wallet: Wallet, a: EpochBatch, sigA: Hex, b: EpochBatch, sigB: Hex, signer: Address) {
      const tuple = (batch: EpochBatch) => ({ ...batch, penalties: [...batch.penalties] })
      return mined(
        await wallet.writeContract({
          ...settlement,
          functionName: 'proveEquivocation',
          args: [tuple(a), g2Struct(blsSignatureToEip2537(sigA)), tuple(b), g2Struct(blsSignatureToEip2537(sigB)), signer],
          chain: wallet.chain,
          account: wallet.account,
        }),
        'proveEquivocation',
      )
    },
    /** `StakeManager.refreshEligibility(node)`: anyone may bring a node's eligible stake up to date. */
    async refreshEligibility(wallet: Wallet, node: Address) {
      return mined(
        await wallet.writeContract({ ...stakeManager, functionName: 'refreshEligibility', args: [node], chain: wallet.chain, account: wallet.account }),
        'refreshEligibility',
      )
    },
    async claim(wallet: Wallet, account: Address, earned: bigint, charged: bigint, proof: readonly Hex[]) {
      return mined(
        await wallet.writeContract({
          ...escrow,
          functionName: 'claim',
          args: [account, earned, charged, [...proof]],
          chain: wallet.chain,
          account: wallet.account,
        }),
        'claim',
      )
    },
    verifyReceipt: (receipt: Receipt) => verifyReceiptOnChain(publicClient, { ...receipt, settlement: contracts.settlement }),
    /** Mints test tokens (devnet: the deployer owns the TestToken), approves and stakes or deposits. */
    async mint(deployer: Wallet, to: Address, amount: bigint) {
      return mined(
        await deployer.writeContract({ ...token, functionName: 'mint', args: [to, amount], chain: deployer.chain, account: deployer.account }),
        'mint',
      )
    },
    async stake(wallet: Wallet, amount: bigint) {
      await mined(
        await wallet.writeContract({ ...token, functionName: 'approve', args: [contracts.stakeManager, amount], chain: wallet.chain, account: wallet.account }),
        'approve',
      )
      return mined(
        await wallet.writeContract({ ...stakeManager, functionName: 'stake', args: [amount], chain: wallet.chain, account: wallet.account }),
        'stake',
      )
    },
    /** Advertises what `wallet`'s node runs (`wasm`, `onnx:<model id>`, …): sortition reads it at each snapshot. */
    async advertiseCapabilities(wallet: Wallet, capabilities: readonly string[]) {
      return mined(
        await wallet.writeContract({
          ...stakeManager,
          functionName: 'advertiseCapabilities',
          args: [[...capabilities]],
          chain: wallet.chain,
          account: wallet.account,
        }),
        'advertiseCapabilities',
      )
    },
    async deposit(wallet: Wallet, amount: bigint) {
      await mined(
        await wallet.writeContract({ ...token, functionName: 'approve', args: [contracts.escrow, amount], chain: wallet.chain, account: wallet.account }),
        'approve',
      )
      return mined(
        await wallet.writeContract({ ...escrow, functionName: 'deposit', args: [amount], chain: wallet.chain, account: wallet.account }),
        'deposit',
      )
    },
  }
}

export type SettlementClient = ReturnType<typeof createSettlementClient>
