// Settlement gas benchmark: what the chain pays per verified task when a committee settles a whole epoch as one
// Merkle-rooted batch (Settlement.submitBatch), for 10 … 10,000 tasks per epoch, next to a naive design that stores
// every result with its own transaction (contracts/bench/NaiveResultStore.sol).
//
// Usage: npx tsx bench/settlement-gas.ts [--quick]
//   --quick  send the naive baseline's transactions for 10, 100 and 1,000 tasks only, and extrapolate 10,000 from
//            their mean (its cost per task is constant); the batched settlement is always measured at every size.
// Prints a table and writes bench/results/settlement-gas.json and bench/results/settlement-gas.md.
//
// Everything runs against a local anvil with the real contracts (src/chain/generated/contracts.ts, so run
// `npm run build:contracts -- --if-stale` first when contracts/ changed) and the real batch builder
// (src/core/epochBatch.ts). Five nodes stake equally, so all five are committee members and each batch carries five
// signatures. Epoch 0 is a warm-up: the first settlement and the first claims write storage slots from zero, which
// later epochs only update; the sizes are measured on epochs 1 to 4, and a last epoch signed by four nodes gives
// the marginal gas of one committee signature.
import { execFileSync } from 'node:child_process'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeFunctionData,
  hexToBytes,
  http,
  keccak256,
  numberToHex,
  parseEther,
  stringToHex,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
} from 'viem'
import { mnemonicToAccount, type HDAccount } from 'viem/accounts'
import { resolveAnvilBinary, startAnvil, type StartedAnvil } from '../src/chain/anvil/startAnvil.ts'
import { defaultChainParams, deployContracts, type DeployedContracts } from '../src/chain/deploy.ts'
import {
  EscrowAbi,
  NaiveResultStoreAbi,
  NaiveResultStoreBytecode,
  SettlementAbi,
  StakeManagerAbi,
  TestTokenAbi,
  contractsCompilerVersion,
} from '../src/chain/generated/contracts.ts'
import { outcomeCode } from '../src/core/eip712.ts'
import { buildEpochBatch, hashEpochBatch, type Balance, type SettledTask } from '../src/core/epochBatch.ts'
import { defineDevChain } from '../src/chain/viem/defineDevChain.ts'
import { waitForReceipt } from '../src/chain/viem/waitForReceipt.ts'
import { quickFlag } from './lib/report.ts'

// --- configuration ---------------------------------------------------------------------------------------------

const SIZES = [10, 100, 1_000, 10_000] as const
const QUICK_NAIVE_SIZES = [10, 100, 1_000] as const
const TARGET_GAS_PER_TASK = 20
const TARGET_AT_TASKS = 10_000
/** Largest spread of submitBatch gas across sizes that still counts as "does not grow" (calldata byte noise). */
const CONSTANT_TOLERANCE = 0.01
const NODE_COUNT = 5
/** Signatures a batch needs with docs/economics.md's public-network committee (C = 256): ⌈2C/3⌉. */
const PUBLIC_SIGNERS = Math.ceil((2 * 256) / 3)
const EXECUTORS_PER_TASK = 3
const EXECUTORS_BPS = 8_000
const NODE_STAKE = parseEther('1000')
const DEPOSIT = parseEther('1000000')
const FEE = parseEther('0.001')
const WARM_UP_TASKS = 10
/** Naive transactions per JSON-RPC batch request (and mined together), and their gas limit (they use about 72k). */
const RPC_BATCH = 250
const NAIVE_GAS_LIMIT = 200_000n
const TX_BASE_GAS = 21_000
/** Anvil's default dev accounts: 0 deployer, 1–5 nodes, 6 requester, 7 sender of the naive transactions. */
const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
// --quick results go to bench/results/quick/ (not committed), so they never replace a full run's.
const quick = quickFlag('npx tsx bench/settlement-gas.ts [--quick]')
const resultsDir = join(root, 'bench', 'results', ...(quick ? ['quick'] : []))

// --- result shapes ---------------------------------------------------------------------------------------------

interface SettlementRow {
  tasks: number
  epoch: number
  signers: number
  /** gasUsed of the submitBatch transaction. */
  submitBatchGas: number
  /** Its calldata share (EIP-2028: 4 per zero byte, 16 per other byte). */
  calldataGas: number
  /** gasUsed − 21,000 − calldataGas: what the contract's code spent. */
  executionGas: number
  openEpochGas: number
  /** The five nodes' Escrow.claim transactions against this epoch's balances root. */
  claimGas: number[]
  /** Milliseconds to build the batch (both Merkle trees) off-chain. */
  buildMs: number
}

interface NaiveRow {
  tasks: number
  /** False: extrapolated from the measured mean (--quick). */
  measured: boolean
  totalGas: number
  meanGasPerTask: number
  minGasPerTask: number
  maxGasPerTask: number
  /** Wall-clock seconds to send the transactions and collect their receipts. */
  seconds: number
}

// --- helpers ---------------------------------------------------------------------------------------------------

const started = performance.now()
const log = (message: string): void => {
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`)
}
const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

function calldataGas(data: Hex): number {
  let gas = 0
  for (const byte of hexToBytes(data)) gas += byte === 0 ? 4 : 16
  return gas
}

/** Sends JSON-RPC requests as one batch; throws on any error. */
async function rpcBatch<T>(url: string, calls: ReadonlyArray<{ method: string; params: unknown[] }>): Promise<T[]> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map((call, id) => ({ jsonrpc: '2.0', id, ...call }))),
  })
  if (!response.ok) throw new Error(`JSON-RPC batch failed: HTTP ${response.status} ${await response.text()}`)
  const replies = (await response.json()) as Array<{ id: number; result?: T; error?: { message: string } }>
  const results: T[] = new Array<T>(calls.length)
  for (const reply of replies) {
    if (reply.error) throw new Error(`${calls[reply.id]?.method} failed: ${reply.error.message}`)
    results[reply.id] = reply.result as T
  }
  return results
}

/** Task ids are distinct across epochs and between the two designs. */
function syntheticTasks(label: string, count: number, nodes: readonly Address[], requester: Address): SettledTask[] {
  return Array.from({ length: count }, (_, i) => ({
    requester,
    fee: FEE,
    verdict: {
      taskId: keccak256(stringToHex(`veritask-bench:${label}:task-${i}`)),
      outcome: 'verified' as const,
      resultHash: keccak256(stringToHex(`veritask-bench:${label}:result-${i}`)),
      executors: Array.from({ length: EXECUTORS_PER_TASK }, (_, j) => nodes[(i + j) % nodes.length] as Address),
      dissenters: [],
    },
  }))
}

function anvilVersion(): string {
  try {
    const out = execFileSync(resolveAnvilBinary(), ['--version'], { encoding: 'utf8' })
    const version = /Version:\s*(\S+)/.exec(out)?.[1]
    const commit = /Commit SHA:\s*([0-9a-f]{7})/.exec(out)?.[1]
    return version ? `${version}${commit ? ` (commit ${commit})` : ''}` : (out.split('\n')[0]?.trim() ?? 'unknown')
  } catch {
    return 'unknown'
  }
}

function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined
}

// --- the benchmark -----------------------------------------------------------------------------------------------

async function run(anvil: StartedAnvil) {
  const chain = defineDevChain(anvil.rpcUrl, 31337, 'anvil')
  const transport = http(anvil.rpcUrl)
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 5 }) as PublicClient
  const testClient = createTestClient({ chain, transport, mode: 'anvil', pollingInterval: 5 })
  const wallet = (account: LocalAccount) => createWalletClient({ account, chain, transport })
  const accountAt = (index: number): HDAccount => mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index })

  const deployer = accountAt(0)
  const nodes = Array.from({ length: NODE_COUNT }, (_, i) => accountAt(1 + i)).sort((a, b) =>
    BigInt(a.address) < BigInt(b.address) ? -1 : 1,
  )
  const requester = accountAt(6)
  const naiveSender = accountAt(7).address
  const treasury = deployer.address

  const send = async (hash: Hex | Promise<Hex>, what: string): Promise<TransactionReceipt> => {
    const receipt = await waitForReceipt(publicClient, await hash)
    if (receipt.status !== 'success') throw new Error(`${what} reverted (${receipt.transactionHash})`)
    return receipt
  }

  const [nodeInfo] = await rpcBatch<{ hardFork?: string }>(anvil.rpcUrl, [{ method: 'anvil_nodeInfo', params: [] }])
  const hardfork = String(nodeInfo?.hardFork ?? 'unknown').toLowerCase()

  // Contracts, stake and escrow.
  const contracts: DeployedContracts = await deployContracts({ walletClient: wallet(deployer), publicClient })
  const deployerWallet = wallet(deployer)
  const mintApprove = async (account: LocalAccount, spender: Address, amount: bigint): Promise<void> => {
    await send(
      deployerWallet.writeContract({ address: contracts.token, abi: TestTokenAbi, functionName: 'mint', args: [account.address, amount] }),
      'mint',
    )
    await send(
      wallet(account).writeContract({ address: contracts.token, abi: TestTokenAbi, functionName: 'approve', args: [spender, amount] }),
      'approve',
    )
  }
  for (const node of nodes) {
    await mintApprove(node, contracts.stakeManager, NODE_STAKE)
    await send(
      wallet(node).writeContract({ address: contracts.stakeManager, abi: StakeManagerAbi, functionName: 'stake', args: [NODE_STAKE] }),
      'stake',
    )
  }
  await mintApprove(requester, contracts.escrow, DEPOSIT)
  await send(
    wallet(requester).writeContract({ address: contracts.escrow, abi: EscrowAbi, functionName: 'deposit', args: [DEPOSIT] }),
    'deposit',
  )
  log(`deployed Settlement at ${contracts.settlement}; ${NODE_COUNT} nodes staked, requester escrow funded (${hardfork})`)

  // --- batched settlement: one submitBatch per epoch ---
  const domain = { chainId: chain.id, verifyingContract: contracts.settlement }
  let previous: ReadonlyMap<Address, Balance> = new Map()
  let charged = 0n
  let nextEpoch = 0n

  const settleEpoch = async (label: string, taskCount: number, signers: readonly HDAccount[]): Promise<SettlementRow> => {
    const epoch = nextEpoch++
    const tasks = syntheticTasks(label, taskCount, nodes.map((n) => n.address), requester.address)
    const buildStart = performance.now()
    const built = buildEpochBatch({
      epoch,
      tasks,
      previous,
      chargeable: new Map([[requester.address, DEPOSIT - charged]]),
      accounts: [requester.address],
      treasury,
      split: { executorsBps: EXECUTORS_BPS },
    })
    const buildMs = performance.now() - buildStart
    const { batch } = built
    if (batch.totalFees !== FEE * BigInt(taskCount)) throw new Error(`epoch ${epoch}: fees were scaled down; deposit more`)
    const digest = hashEpochBatch(batch, domain)
    const signatures = await Promise.all(signers.map((signer) => signer.sign({ hash: digest })))

    const start = await publicClient.readContract({
      address: contracts.settlement,
      abi: SettlementAbi,
      functionName: 'epochStart',
      args: [epoch],
    })
    const next = (await publicClient.getBlockNumber({ cacheTime: 0 })) + 1n // the block openEpoch is mined in
    if (next < start) await testClient.mine({ blocks: Number(start - next) })
    const opened = await send(
      deployerWallet.writeContract({ address: contracts.settlement, abi: SettlementAbi, functionName: 'openEpoch', args: [epoch] }),
      `openEpoch(${epoch})`,
    )
    // A batch settles only once its epoch has ended: mine to the next epoch's first block.
    const end = await publicClient.readContract({ address: contracts.settlement, abi: SettlementAbi, functionName: 'epochStart', args: [epoch + 1n] })
    const now = (await publicClient.getBlockNumber({ cacheTime: 0 })) + 1n
    if (now < end) await testClient.mine({ blocks: Number(end - now) })
    const submitted = await send(
      deployerWallet.writeContract({
        address: contracts.settlement,
        abi: SettlementAbi,
        functionName: 'submitBatch',
        args: [batch, signatures],
      }),
      `submitBatch(${epoch})`,
    )
    const tx = await publicClient.getTransaction({ hash: submitted.transactionHash })

    // The settled root must prove the epoch's outcomes (first and last leaf).
    const outcomes = built.outcomes
    if (outcomes === null) throw new Error('unreachable: an epoch with tasks has an outcomes tree')
    for (const index of [0, outcomes.length - 1]) {
      const [taskId, resultHash, status, executors] = outcomes.at(index) ?? []
      if (taskId === undefined || resultHash === undefined || status === undefined || executors === undefined) {
        throw new Error(`no leaf ${index}`)
      }
      const ok = await publicClient.readContract({
        address: contracts.settlement,
        abi: SettlementAbi,
        functionName: 'verifyReceipt',
        args: [epoch, taskId, resultHash, status, executors, outcomes.getProof(index) as Hex[]],
      })
      if (!ok || status !== outcomeCode.verified) throw new Error(`epoch ${epoch}: receipt ${index} does not verify`)
    }

    // Every node claims its earnings against the new balances root.
    const balances = built.balances
    if (balances === null) throw new Error('unreachable: a settled epoch has balances')
    const claimGas: number[] = []
    for (const [index, [account, earned, chargedSoFar]] of balances.entries()) {
      const node = nodes.find((n) => n.address === account)
      if (node === undefined) continue
      const receipt = await send(
        wallet(node).writeContract({
          address: contracts.escrow,
          abi: EscrowAbi,
          functionName: 'claim',
          args: [account, earned, chargedSoFar, balances.getProof(index) as Hex[]],
        }),
        `claim(${account})`,
      )
      claimGas.push(Number(receipt.gasUsed))
    }
    if (claimGas.length !== NODE_COUNT) throw new Error(`epoch ${epoch}: ${claimGas.length} nodes could claim`)

    previous = built.cumulative
    charged += batch.totalFees
    const submitBatchGas = Number(submitted.gasUsed)
    const calldata = calldataGas(tx.input)
    return {
      tasks: taskCount,
      epoch: Number(epoch),
      signers: signatures.length,
      submitBatchGas,
      calldataGas: calldata,
      executionGas: submitBatchGas - TX_BASE_GAS - calldata,
      openEpochGas: Number(opened.gasUsed),
      claimGas,
      buildMs: Math.round(buildMs),
    }
  }

  const warmUp = await settleEpoch('warm-up', WARM_UP_TASKS, nodes)
  log(`epoch 0 (warm-up, ${WARM_UP_TASKS} tasks): submitBatch ${fmt(warmUp.submitBatchGas)} gas`)
  const settlement: SettlementRow[] = []
  for (const size of SIZES) {
    const row = await settleEpoch(`epoch-${size}`, size, nodes)
    settlement.push(row)
    log(
      `epoch ${row.epoch}: ${fmt(size)} tasks, submitBatch ${fmt(row.submitBatchGas)} gas = ` +
        `${fmt(row.submitBatchGas / size, 2)} gas/task (batch built in ${fmt(row.buildMs)} ms)`,
    )
  }
  // One signature fewer (4 of 5 nodes still hold more than 2/3 of the stake): the marginal cost of a signer.
  const fewer = await settleEpoch('fewer-signers', SIZES[0], nodes.slice(0, NODE_COUNT - 1))
  const sameSize = settlement[0] as SettlementRow
  const gasPerSignature = sameSize.submitBatchGas - fewer.submitBatchGas
  log(`epoch ${fewer.epoch}: ${fewer.signers} signers, submitBatch ${fmt(fewer.submitBatchGas)} gas (${fmt(gasPerSignature)} per signature)`)

  // --- naive baseline: one transaction per task ---
  const deployHash = await deployerWallet.deployContract({ abi: NaiveResultStoreAbi, bytecode: NaiveResultStoreBytecode })
  const store = (await send(deployHash, 'deploy NaiveResultStore')).contractAddress
  if (!store) throw new Error('NaiveResultStore not deployed')
  let nonce = await publicClient.getTransactionCount({ address: naiveSender, blockTag: 'pending' })

  const recordAll = async (label: string, count: number): Promise<NaiveRow> => {
    const t0 = performance.now()
    const tasks = syntheticTasks(label, count, nodes.map((n) => n.address), requester.address)
    const gas: number[] = []
    for (let i = 0; i < tasks.length; i += RPC_BATCH) {
      const calls = tasks.slice(i, i + RPC_BATCH).map(({ verdict }) => ({
        method: 'eth_sendTransaction',
        params: [
          {
            from: naiveSender,
            to: store,
            gas: numberToHex(NAIVE_GAS_LIMIT),
            nonce: numberToHex(nonce++),
            data: encodeFunctionData({
              abi: NaiveResultStoreAbi,
              functionName: 'record',
              args: [verdict.taskId, verdict.resultHash, outcomeCode[verdict.outcome], verdict.executors],
            }),
          },
        ],
      }))
      const hashes = await rpcBatch<Hex>(anvil.rpcUrl, calls)
      // Automine is off: mine until the pool is empty (a block holds as many as its gas limit allows).
      for (let blocks = 0; ; blocks++) {
        const pool = await testClient.getTxpoolStatus()
        if (pool.pending === 0 && pool.queued === 0) break
        if (blocks > RPC_BATCH) throw new Error(`naive transactions stay in the pool: ${JSON.stringify(pool)}`)
        await testClient.mine({ blocks: 1 })
      }
      const receipts = await rpcBatch<{ status: Hex; gasUsed: Hex } | null>(
        anvil.rpcUrl,
        hashes.map((hash) => ({ method: 'eth_getTransactionReceipt', params: [hash] })),
      )
      for (const [j, receipt] of receipts.entries()) {
        if (receipt === null) throw new Error(`naive record ${hashes[j]} was not mined`)
        if (receipt.status !== '0x1') throw new Error(`naive record ${hashes[j]} reverted`)
        gas.push(Number(BigInt(receipt.gasUsed)))
      }
    }
    const totalGas = gas.reduce((a, b) => a + b, 0)
    return {
      tasks: count,
      measured: true,
      totalGas,
      meanGasPerTask: totalGas / count,
      minGasPerTask: Math.min(...gas),
      maxGasPerTask: Math.max(...gas),
      seconds: Math.round(performance.now() - t0) / 1000,
    }
  }

  const naive: NaiveRow[] = []
  // Thousands of transactions queued under automine make anvil 1.7 drop one now and then (and every later nonce
  // waits forever), so they are sent in batches with automine off and mined explicitly. Gas does not depend on how
  // transactions are packed into blocks.
  await testClient.setAutomine(false)
  try {
    for (const size of quick ? QUICK_NAIVE_SIZES : SIZES) {
      const row = await recordAll(`naive-${size}`, size)
      naive.push(row)
      log(
        `naive: ${fmt(size)} transactions, ${fmt(row.meanGasPerTask, 1)} gas/task ` +
          `(min ${fmt(row.minGasPerTask)}, max ${fmt(row.maxGasPerTask)}; ${fmt(row.seconds, 1)} s)`,
      )
    }
  } finally {
    await testClient.setAutomine(true)
  }
  // A duplicate is refused (the store is a real one, not a write-only log).
  const [firstNaive] = syntheticTasks(`naive-${SIZES[0]}`, 1, nodes.map((n) => n.address), requester.address)
  if (firstNaive === undefined) throw new Error('unreachable')
  const duplicate = await publicClient
    .simulateContract({
      account: naiveSender,
      address: store,
      abi: NaiveResultStoreAbi,
      functionName: 'record',
      args: [firstNaive.verdict.taskId, firstNaive.verdict.resultHash, 0, firstNaive.verdict.executors],
    })
    .then(
      () => 'accepted',
      (error: unknown) => revertName(error) ?? String(error),
    )
  if (duplicate !== 'NaiveResultStoreAlreadyRecorded') throw new Error(`a duplicate record gave ${duplicate}`)

  const measuredGas = naive.reduce((a, r) => a + r.totalGas, 0)
  const measuredTasks = naive.reduce((a, r) => a + r.tasks, 0)
  for (const size of SIZES) {
    if (naive.some((r) => r.tasks === size)) continue
    const mean = measuredGas / measuredTasks
    naive.push({
      tasks: size,
      measured: false,
      totalGas: Math.round(mean * size),
      meanGasPerTask: mean,
      minGasPerTask: Math.min(...naive.map((r) => r.minGasPerTask)),
      maxGasPerTask: Math.max(...naive.map((r) => r.maxGasPerTask)),
      seconds: 0,
    })
  }
  naive.sort((a, b) => a.tasks - b.tasks)

  return { contracts, hardfork, warmUp, settlement, fewer, gasPerSignature, naive }
}

// --- report ------------------------------------------------------------------------------------------------------

type Measured = Awaited<ReturnType<typeof run>>

function report(m: Measured, anvil: string, seconds: number) {
  const cpus = os.cpus()
  const machine = {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  }
  const perTask = (gas: number, tasks: number) => Math.round((gas / tasks) * 100) / 100
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0)
  const rows = m.settlement.map((s) => {
    const n = m.naive.find((r) => r.tasks === s.tasks)
    if (n === undefined) throw new Error(`no naive row for ${s.tasks}`)
    const claims = sum(s.claimGas)
    return {
      tasks: s.tasks,
      epoch: s.epoch,
      submitBatchGas: s.submitBatchGas,
      submitBatchGasPerTask: perTask(s.submitBatchGas, s.tasks),
      openEpochGas: s.openEpochGas,
      claimsGas: claims,
      chainGasPerTask: perTask(s.openEpochGas + s.submitBatchGas + claims, s.tasks),
      naiveGasPerTask: Math.round(n.meanGasPerTask * 100) / 100,
      naiveMeasured: n.measured,
      naiveTotalGas: n.totalGas,
      savingFactor: Math.round((n.meanGasPerTask / (s.submitBatchGas / s.tasks)) * 10) / 10,
    }
  })
  const atTarget = rows.find((r) => r.tasks === TARGET_AT_TASKS)
  if (atTarget === undefined) throw new Error('unreachable')
  const gases = m.settlement.map((s) => s.submitBatchGas)
  const executions = m.settlement.map((s) => s.executionGas)
  const minGas = Math.min(...gases)
  const spread = Math.max(...gases) - minGas
  const executionSpread = Math.max(...executions) - Math.min(...executions)
  const targets = {
    gasPerTaskAt10k: {
      target: TARGET_GAS_PER_TASK,
      actual: atTarget.submitBatchGasPerTask,
      met: atTarget.submitBatchGasPerTask <= TARGET_GAS_PER_TASK,
      /** target − actual: positive is headroom, negative the excess. */
      margin: Math.round((TARGET_GAS_PER_TASK - atTarget.submitBatchGasPerTask) * 100) / 100,
      marginPercent: Math.round((1 - atTarget.submitBatchGasPerTask / TARGET_GAS_PER_TASK) * 1000) / 10,
      withOpenEpoch: perTask(atTarget.submitBatchGas + atTarget.openEpochGas, TARGET_AT_TASKS),
    },
    constantInTasks: {
      tolerance: CONSTANT_TOLERANCE,
      submitBatchGasSpread: spread,
      spreadPercent: Math.round((spread / minGas) * 10_000) / 100,
      executionGasSpread: executionSpread,
      /** submitBatch gas at 10,000 tasks minus at 10. */
      growth10To10k: (gases[gases.length - 1] ?? 0) - (gases[0] ?? 0),
      met: spread <= CONSTANT_TOLERANCE * minGas,
    },
  }
  const json = {
    benchmark: 'settlement-gas',
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    seconds: Math.round(seconds * 10) / 10,
    machine,
    software: { node: process.version, anvil, hardfork: m.hardfork, solc: contractsCompilerVersion },
    setup: {
      nodes: NODE_COUNT,
      signersPerBatch: m.settlement[0]?.signers ?? NODE_COUNT,
      executorsPerTask: EXECUTORS_PER_TASK,
      executorsBps: EXECUTORS_BPS,
      epochLength: Number(defaultChainParams.epochLength),
      committeeSize: defaultChainParams.committeeSize,
      feePerTask: FEE.toString(),
      warmUpTasks: WARM_UP_TASKS,
    },
    targets,
    rows,
    settlement: m.settlement,
    warmUp: m.warmUp,
    fewerSigners: m.fewer,
    gasPerSignature: m.gasPerSignature,
    naive: m.naive,
  }
  return { json, rows, targets, machine }
}

function markdown(r: ReturnType<typeof report>, m: Measured): string {
  const { json, rows, targets, machine } = r
  const yes = (met: boolean) => (met ? '**met**' : '**not met**')
  const t = targets.gasPerTaskAt10k
  const c = targets.constantInTasks
  const naiveNote = rows.some((row) => !row.naiveMeasured)
    ? `\\* extrapolated from the mean of the ${fmt(m.naive.filter((n) => n.measured).reduce((a, n) => a + n.tasks, 0))} ` +
      'naive transactions measured (`--quick`); the naive cost per task does not depend on the count.\n'
    : ''
  const claim = m.settlement[0]?.claimGas[0] ?? 0
  const publicBatchGas = (m.settlement[0]?.submitBatchGas ?? 0) + (PUBLIC_SIGNERS - NODE_COUNT) * m.gasPerSignature
  const lines = [
    '# Settlement gas per verified task',
    '',
    `Generated by \`npx tsx bench/settlement-gas.ts${quick ? ' --quick' : ''}\` on ${json.date.slice(0, 10)} ` +
      `(${json.mode} run, ${fmt(json.seconds, 1)} s).`,
    '',
    `- Machine: ${machine.cpu}, ${machine.cores} logical CPUs, ${fmt(machine.memoryGiB, 1)} GiB RAM; ${machine.os}`,
    `- Software: Node ${json.software.node}, anvil ${json.software.anvil}, hardfork ${json.software.hardfork}; ` +
      `solc ${json.software.solc} (optimizer on, 200 runs, EVM cancun)`,
    `- Setup: ${NODE_COUNT} equally staked nodes, all committee members; every batch carries ${json.setup.signersPerBatch} ` +
      `signatures; ${EXECUTORS_PER_TASK} executors per task; one requester; epoch 0 (${WARM_UP_TASKS} tasks) is a ` +
      'warm-up and is not in the table.',
    '',
    '## Results',
    '',
    '| tasks / epoch | submitBatch gas | gas / task | naive gas / task | naive ÷ batched | openEpoch + submitBatch + 5 claims, gas / task |',
    '|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${fmt(row.tasks)} | ${fmt(row.submitBatchGas)} | ${fmt(row.submitBatchGasPerTask, 2)} | ` +
        `${fmt(row.naiveGasPerTask, 1)}${row.naiveMeasured ? '' : '\\*'} | ${fmt(row.savingFactor, 1)}× | ` +
        `${fmt(row.chainGasPerTask, 2)} |`,
    ),
    '',
    ...(naiveNote === '' ? [] : [naiveNote]),
    '- **gas / task** is the gas of the one `Settlement.submitBatch` transaction that settles the epoch, divided by ' +
      'the tasks in it: the batch carries only the two Merkle roots, totals and signatures, whatever the number of tasks.',
    '- **naive** is `contracts/bench/NaiveResultStore.sol`: one transaction per task that stores the result hash and ' +
      'status (two fresh storage slots) and emits the executors in an event — no signatures, no payments, so it is a ' +
      'lower bound for a per-task on-chain design. Even one fresh slot per task would cost at least 21,000 + 22,100 gas.',
    `- **last column**: everything the chain does per epoch — \`openEpoch\` (${fmt(rows[0]?.openEpochGas ?? 0)} gas) + ` +
      `\`submitBatch\` + each of the ${NODE_COUNT} nodes claiming its earnings with one \`Escrow.claim\` ` +
      `(~${fmt(claim)} gas each). Claims are pull payments against cumulative balances, so a node may claim once ` +
      'per many epochs; claiming every epoch is the worst case.',
    '',
    '## Targets',
    '',
    `- ≤ ${TARGET_GAS_PER_TASK} gas per task at ${fmt(TARGET_AT_TASKS)} tasks per epoch (submitBatch): ${yes(t.met)} — ` +
      `${fmt(t.actual, 2)} gas/task, ${t.met ? `${fmt(t.margin, 2)} gas (${fmt(t.marginPercent, 1)} %) under` : `${fmt(-t.margin, 2)} gas (${fmt(-t.marginPercent, 1)} %) over`} the target. ` +
      `Counting the epoch's \`openEpoch\` too: ${fmt(t.withOpenEpoch, 2)} gas/task` +
      `${t.withOpenEpoch <= TARGET_GAS_PER_TASK ? ' (also within the target).' : ' (above the target).'}`,
    `- Settlement gas does not grow with tasks per epoch: ${yes(c.met)} — submitBatch gas varies by ${fmt(c.submitBatchGasSpread)} gas ` +
      `(${fmt(c.spreadPercent, 2)} %) between ${fmt(SIZES[0])} and ${fmt(TARGET_AT_TASKS)} tasks; ` +
      `${c.executionGasSpread === 0 ? 'the contract’s execution gas is identical at every size, and the difference is all calldata pricing (zero vs non-zero bytes in the signatures and amounts)' : `the contract’s execution gas (excluding calldata) varies by ${fmt(c.executionGasSpread)} gas`}.`,
    '',
    '## Per-epoch detail',
    '',
    '| epoch | tasks | signers | submitBatch gas | of which calldata | execution | openEpoch gas | claims (5 nodes) | batch build (ms) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...[m.warmUp, ...m.settlement, m.fewer].map(
      (s) =>
        `| ${s.epoch}${s === m.warmUp ? ' (warm-up)' : ''} | ${fmt(s.tasks)} | ${s.signers} | ${fmt(s.submitBatchGas)} | ` +
        `${fmt(s.calldataGas)} | ${fmt(s.executionGas)} | ${fmt(s.openEpochGas)} | ${fmt(s.claimGas.reduce((a, b) => a + b, 0))} | ${fmt(s.buildMs)} |`,
    ),
    '',
    `The warm-up epoch costs more because it writes the balances root and the settled-epoch counter from zero, and ` +
      `the first claims create the nodes' claimed totals and token balances. Each further committee signature costs ` +
      `about ${fmt(m.gasPerSignature)} gas (epoch ${m.fewer.epoch}, signed by ${m.fewer.signers} nodes, against epoch ` +
      `${m.settlement[0]?.epoch}): a batch signed by S members costs roughly ` +
      `${fmt((m.settlement[0]?.submitBatchGas ?? 0) - NODE_COUNT * m.gasPerSignature)} + ${fmt(m.gasPerSignature)}·S gas, ` +
      'still independent of the number of tasks. The target above holds for this five-node committee; with the ' +
      `committee size recommended for a public network (C = 256, so about ${PUBLIC_SIGNERS} signatures for 2/3) a batch ` +
      `would cost about ${fmt(publicBatchGas)} gas, ${fmt(publicBatchGas / TARGET_AT_TASKS, 1)} gas/task at ` +
      `${fmt(TARGET_AT_TASKS)} tasks.`,
    '',
    '## Naive baseline detail',
    '',
    '| tasks | transactions sent | total gas | mean gas / task | min | max |',
    '|---:|---:|---:|---:|---:|---:|',
    ...m.naive.map(
      (n) =>
        `| ${fmt(n.tasks)} | ${n.measured ? fmt(n.tasks) : '— (extrapolated)'} | ${fmt(n.totalGas)} | ${fmt(n.meanGasPerTask, 1)} | ` +
        `${fmt(n.minGasPerTask)} | ${fmt(n.maxGasPerTask)} |`,
    ),
    '',
  ]
  return lines.join('\n')
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, text)
  await rename(temporary, path)
}

// --- main --------------------------------------------------------------------------------------------------------

const anvilVersionText = anvilVersion()
log(`settlement gas benchmark (${quick ? 'quick' : 'full'}); anvil ${anvilVersionText}, solc ${contractsCompilerVersion}`)
const anvil = await startAnvil()
let measured: Measured
try {
  measured = await run(anvil)
} finally {
  await anvil.stop()
}
const seconds = (performance.now() - started) / 1000
const result = report(measured, anvilVersionText, seconds)
const md = markdown(result, measured)
await mkdir(resultsDir, { recursive: true })
const jsonPath = join(resultsDir, 'settlement-gas.json')
const mdPath = join(resultsDir, 'settlement-gas.md')
await writeAtomic(jsonPath, `${JSON.stringify(result.json, null, 2)}\n`)
await writeAtomic(mdPath, md)
console.log(`\n${md}`)
console.log(`wrote ${relative(process.cwd(), jsonPath)} and ${relative(process.cwd(), mdPath)}`)
