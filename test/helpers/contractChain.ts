// The contract tests' chain: anvil + deployed contracts + funded accounts + helpers. It does what a
// network never does: automine, snapshots to revert to, batches signed and submitted by hand.
// Networks (the devnet, the local network, the processes) start their chain with the one dev chain
// bootstrap, src/devnet/startDevChain.ts; both deploy through chain/deploy.ts `deployContracts`.
// Accounts are local (private keys derived from a label), so they can sign typed data like real nodes.
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  decodeErrorResult,
  http,
  keccak256,
  parseEther,
  toHex,
  type Abi,
  type Address,
  type Chain,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TestClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { hashEpochBatch } from '../../src/core/epochBatch.ts'
import type { EpochBatch } from '../../src/core/epochBatch.ts'
import { deployContracts, type ChainParams, type DeployedContracts } from '../../src/chain/deploy.ts'
import {
  EscrowAbi,
  NetworkParametersAbi,
  SettlementAbi,
  StakeManagerAbi,
  TestTokenAbi,
  VeritaskGovernorAbi,
  VeritaskTimelockAbi,
} from '../../src/chain/generated/contracts.ts'
import { startAnvil, type StartedAnvil } from '../../src/chain/anvil/startAnvil.ts'
import { defineDevChain } from '../../src/chain/viem/defineDevChain.ts'
import { waitForReceipt } from '../../src/chain/viem/waitForReceipt.ts'
import { createSettlementClient } from '../../src/chain/viem/createSettlementClient.ts'
import { aggregateBlsSignatures, blsSignatureToEip2537, g1Struct, g2Struct } from '../../src/crypto/bls.ts'
import type { AggregateSignature } from '../../src/ports/settlement.ts'
import { blsKeyOf } from './fixtures.ts'

// The batch and penalty shapes are core's (Settlement.EpochBatch / Settlement.Penalty).
export type { EpochBatch, Penalty } from '../../src/core/epochBatch.ts'

// The batch's EIP-712 types and penalties hash are core's: these tests check them against the contract.
export { epochBatchTypes, hashPenalties } from '../../src/core/epochBatch.ts'

const allErrorsAbi = [
  ...SettlementAbi,
  ...StakeManagerAbi,
  ...EscrowAbi,
  ...TestTokenAbi,
  ...NetworkParametersAbi,
  ...VeritaskGovernorAbi,
  ...VeritaskTimelockAbi,
].filter(
  (item) => item.type === 'error',
) as Abi

/** The custom error name of a reverted contract call, decoded against every veritask contract's errors. */
export function revertErrorName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
  if (!(reverted instanceof ContractFunctionRevertedError)) return undefined
  if (reverted.data?.errorName) return reverted.data.errorName
  if (reverted.raw && reverted.raw !== '0x') {
    try {
      return decodeErrorResult({ abi: allErrorsAbi, data: reverted.raw }).errorName
    } catch {
      return reverted.raw
    }
  }
  return reverted.reason
}

/** Awaits `promise`, which must fail with the custom error `errorName`; returns the decoded error arguments. */
export async function expectRevert(promise: Promise<unknown>, errorName: string): Promise<readonly unknown[]> {
  try {
    await promise
  } catch (error) {
    const name = revertErrorName(error)
    if (name !== errorName) {
      throw new Error(`expected revert ${errorName}, got ${name ?? String(error)}`, { cause: error })
    }
    const reverted = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError)
    return ((reverted as ContractFunctionRevertedError).data?.args ?? []) as readonly unknown[]
  }
  throw new Error(`expected revert ${errorName}, but the call succeeded`)
}

export type TestWallet = WalletClient<Transport, Chain, LocalAccount>

/** Helpers bound to one deployment of the contracts. */
export interface TestDeployment {
  contracts: DeployedContracts
  /** Mints `amount` test tokens to `to`. */
  mint(to: Address, amount: bigint): Promise<void>
  /**
   * Registers `node`'s BLS key (with its proof of possession) if it has none, unless told not to,
   * then mints, approves and stakes `amount`.
   */
  stake(node: LocalAccount, amount: bigint, options?: { registerBlsKey?: boolean }): Promise<void>
  /** Registers `node`'s BLS key (`deriveBlsKey`) with its proof of possession. */
  registerBlsKey(node: LocalAccount): Promise<TransactionReceipt>
  /** Mints, approves and deposits `amount` into escrow for `requester`. */
  deposit(requester: LocalAccount, amount: bigint): Promise<void>
  /** Opens `epoch`, mining up to its start block first if needed. */
  openEpoch(epoch: bigint): Promise<void>
  /** `account`'s BLS signature (compressed) of `batch`'s EIP-712 digest. */
  signBatch(account: LocalAccount, batch: EpochBatch): Promise<Hex>
  /** The aggregate signature of `batch` by `signers`, with the rest of its epoch's committee as non-signers. */
  signBatchBy(signers: readonly LocalAccount[], batch: EpochBatch): Promise<AggregateSignature>
  /** Submits `batch` with an aggregate signature from `from` (default the deployer). */
  submitBatch(batch: EpochBatch, signed: AggregateSignature, from?: LocalAccount): Promise<TransactionReceipt>
}

export interface TestChain extends TestDeployment {
  anvil: StartedAnvil
  chain: Chain
  publicClient: PublicClient
  testClient: TestClient
  deployer: LocalAccount
  /** A wallet that sends from `account`. */
  wallet(account: LocalAccount): TestWallet
  /** Deterministic local accounts named `label-0…`, each funded with 1 000 ETH. */
  createAccounts(label: string, count: number): Promise<LocalAccount[]>
  /** Waits for the transaction and asserts it succeeded. */
  send(hash: Hex | Promise<Hex>): Promise<TransactionReceipt>
  /** Mines `blocks` empty blocks. */
  mine(blocks: number): Promise<void>
  blockNumber(): Promise<bigint>
  /** Deploys another independent set of contracts on the same anvil. */
  deployMore(params: Partial<ChainParams>): Promise<TestDeployment>
  /** A reusable snapshot: `revert()` restores the state at `snapshot()` time (any number of times). */
  snapshot(): Promise<{ revert(): Promise<void> }>
  stop(): Promise<void>
}

/** The G2 point at infinity, compressed: the aggregate of no signatures. */
export const INFINITY_G2: Hex = `0xc0${'00'.repeat(95)}`

/** Sorts accounts by address, the order Settlement requires of batch signers. */
export function sortByAddress<T extends { address: Address }>(accounts: readonly T[]): T[] {
  return [...accounts].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
}

/** Starts anvil, deploys the contracts with `params` and returns helpers bound to them. */
export async function createTestChain(params: Partial<ChainParams> = {}): Promise<TestChain> {
  const anvil = await startAnvil()
  try {
    const chain = defineDevChain(anvil.rpcUrl, 31337, 'anvil')
    const transport = http(anvil.rpcUrl)
    // Automine: a transaction is mined when it is sent, so receipts can be polled at once.
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 5 }) as PublicClient
    const testClient = createTestClient({ chain, transport, mode: 'anvil', pollingInterval: 5 })
    const wallet = (account: LocalAccount): TestWallet => createWalletClient({ account, chain, transport })

    const createAccounts = async (label: string, count: number): Promise<LocalAccount[]> => {
      const accounts = Array.from({ length: count }, (_, i) =>
        privateKeyToAccount(keccak256(toHex(`veritask-test:${label}-${i}`))),
      )
      await Promise.all(accounts.map((a) => testClient.setBalance({ address: a.address, value: parseEther('1000') })))
      return accounts
    }
    const [deployer] = await createAccounts('deployer', 1)
    if (!deployer) throw new Error('unreachable')
    const deployerWallet = wallet(deployer)

    const send = async (hash: Hex | Promise<Hex>): Promise<TransactionReceipt> => {
      const receipt = await waitForReceipt(publicClient, await hash)
      if (receipt.status !== 'success') throw new Error(`transaction ${receipt.transactionHash} reverted`)
      return receipt
    }
    const deployWith = (overrides: Partial<ChainParams>): Promise<DeployedContracts> =>
      deployContracts({
        walletClient: deployerWallet,
        publicClient,
        params: overrides,
      })
    const mine = async (blocks: number): Promise<void> => {
      if (blocks > 0) await testClient.mine({ blocks })
    }
    const blockNumber = (): Promise<bigint> => publicClient.getBlockNumber({ cacheTime: 0 })

    const bind = (contracts: DeployedContracts): TestDeployment => {
      const mint = async (to: Address, amount: bigint): Promise<void> => {
        await send(
          deployerWallet.writeContract({ address: contracts.token, abi: TestTokenAbi, functionName: 'mint', args: [to, amount] }),
        )
      }
      const approveAndCall = async (
        account: LocalAccount,
        spender: Address,
        amount: bigint,
        call: (w: TestWallet) => Promise<Hex>,
      ): Promise<void> => {
        const w = wallet(account)
        await mint(account.address, amount)
        await send(w.writeContract({ address: contracts.token, abi: TestTokenAbi, functionName: 'approve', args: [spender, amount] }))
        await send(call(w))
      }
      const domain = {
        name: 'veritask',
        version: '1',
        chainId: chain.id,
        verifyingContract: contracts.settlement,
      } as const
      const signBatch = async (account: LocalAccount, batch: EpochBatch): Promise<Hex> => (await blsKeyOf(account)).sign(hashEpochBatch(batch, domain))
      const registerBlsKey = async (node: LocalAccount): Promise<TransactionReceipt> => {
        const key = await blsKeyOf(node)
        return send(
          wallet(node).writeContract({
            address: contracts.stakeManager,
            abi: StakeManagerAbi,
            functionName: 'registerBlsKey',
            args: [g1Struct(key.publicKey), g2Struct(key.proofOfPossession(node.address))],
          }),
        )
      }
      const client = createSettlementClient(publicClient, contracts)
      return {
        contracts,
        mint,
        registerBlsKey,
        stake: async (node, amount, { registerBlsKey: withKey = true } = {}) => {
          if (withKey && (await client.blsKeyRegisteredAt(node.address)) === 0n) await registerBlsKey(node)
          await approveAndCall(node, contracts.stakeManager, amount, (w) =>
            w.writeContract({ address: contracts.stakeManager, abi: StakeManagerAbi, functionName: 'stake', args: [amount] }),
          )
        },
        deposit: (requester, amount) =>
          approveAndCall(requester, contracts.escrow, amount, (w) =>
            w.writeContract({ address: contracts.escrow, abi: EscrowAbi, functionName: 'deposit', args: [amount] }),
          ),
        openEpoch: async (epoch) => {
          const start = await publicClient.readContract({
            address: contracts.settlement,
            abi: SettlementAbi,
            functionName: 'epochStart',
            args: [epoch],
          })
          // The opening transaction is mined in the next block.
          const next = (await blockNumber()) + 1n
          if (next < start) await mine(Number(start - next))
          await send(
            deployerWallet.writeContract({ address: contracts.settlement, abi: SettlementAbi, functionName: 'openEpoch', args: [epoch] }),
          )
        },
        signBatch,
        signBatchBy: async (signers, batch) => {
          const committee = await client.committee(batch.epoch)
          const signing = new Set(signers.map((s) => s.address))
          const signatures = await Promise.all(signers.map((s) => signBatch(s, batch)))
          return {
            signature: signatures.length === 0 ? INFINITY_G2 : aggregateBlsSignatures(signatures),
            nonSigners: committee.map((m) => m.node).filter((node) => !signing.has(node)),
          }
        },
        submitBatch: (batch, { signature, nonSigners }, from = deployer) =>
          send(
            wallet(from).writeContract({
              address: contracts.settlement,
              abi: SettlementAbi,
              functionName: 'submitBatch',
              args: [batch, g2Struct(blsSignatureToEip2537(signature)), [...nonSigners]],
            }),
          ),
      }
    }

    return {
      ...bind(await deployWith(params)),
      anvil,
      chain,
      publicClient,
      testClient,
      deployer,
      wallet,
      createAccounts,
      send,
      mine,
      blockNumber,
      deployMore: async (overrides) => bind(await deployWith(overrides)),
      snapshot: async () => {
        let id = await testClient.snapshot()
        return {
          revert: async () => {
            await testClient.revert({ id })
            // A snapshot is consumed by reverting to it: take it again at the same state.
            id = await testClient.snapshot()
          },
        }
      },
      stop: () => anvil.stop(),
    }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}
