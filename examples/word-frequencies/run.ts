// Word frequencies over a folder of text files, computed by the network and checked locally.
//
//   npx tsx examples/word-frequencies/run.ts [folder] [--chunk-size <bytes>]
//
// It connects to the network named by $VERITASK_RPC_URL, $VERITASK_NODE_URLS (comma-separated),
// $VERITASK_SETTLEMENT and $VERITASK_KEY, or by .devnet/network.json (as written by
// `veritask devnet --serve --json > .devnet/network.json`); with neither, it starts a local
// network in this process.
// Outside this repository, import from 'veritask/sdk' instead of '../../src/sdk/index.ts'.
import { readFile } from 'node:fs/promises'
import type { Address, Hex } from 'viem'
import { contentId } from '../../src/core/contentId.ts'
import { startLocalNetwork } from '../../src/devnet/localNetwork.ts'
import { exampleProgramPath } from '../../src/programs/examplePrograms.ts'
import { wordCountReference } from '../../src/programs/wordCount.ts'
import { buildChunkOutputTree, createVeritaskClient, planChunks, readJobInput } from '../../src/sdk/index.ts'
import { countWordsLocally, parseWordCounts } from './wordFrequencies.ts'

const args = process.argv.slice(2)
const sizeFlag = args.indexOf('--chunk-size')
const chunkSize = sizeFlag >= 0 ? Number(args[sizeFlag + 1]) : 256
const folder = args.find((a, i) => !a.startsWith('--') && i !== sizeFlag + 1) ?? new URL('./texts', import.meta.url).pathname

interface Connection {
  rpcUrl: string
  nodeApiUrls: string[]
  settlement: Address
  key: Hex
  chainId?: number
}

async function connection(): Promise<{ connection: Connection; stop: () => Promise<void> }> {
  const env = process.env
  if (env.VERITASK_RPC_URL && env.VERITASK_NODE_URLS && env.VERITASK_SETTLEMENT && env.VERITASK_KEY) {
    const nodeApiUrls = env.VERITASK_NODE_URLS.split(',')
    return { connection: { rpcUrl: env.VERITASK_RPC_URL, nodeApiUrls, settlement: env.VERITASK_SETTLEMENT as Address, key: env.VERITASK_KEY as Hex }, stop: async () => {} }
  }
  try {
    // What `veritask devnet --serve --json > .devnet/network.json` writes.
    const file = JSON.parse(await readFile('.devnet/network.json', 'utf8')) as {
      rpcUrl: string
      chainId: number
      contracts: { settlement: Address }
      nodes: Array<{ api: string }>
      requester: { privateKey: Hex }
    }
    const key = (env.VERITASK_KEY as Hex | undefined) ?? file.requester.privateKey
    const nodeApiUrls = file.nodes.map((n) => n.api)
    console.error(`using the network in .devnet/network.json (${nodeApiUrls.length} nodes)`)
    return { connection: { rpcUrl: file.rpcUrl, nodeApiUrls, settlement: file.contracts.settlement, key, chainId: file.chainId }, stop: async () => {} }
  } catch {
    console.error('no network configured: starting a local one in this process (anvil + 4 nodes)…')
    const net = await startLocalNetwork({ nodes: 4 })
    const c = { rpcUrl: net.rpcUrl, nodeApiUrls: net.nodeApiUrls, settlement: net.contracts.settlement, key: net.requesterKey, chainId: net.chainId }
    return { connection: c, stop: () => net.stop() }
  }
}

const { connection: c, stop } = await connection()
try {
  const client = createVeritaskClient({
    rpcUrl: c.rpcUrl,
    nodeApiUrl: c.nodeApiUrls,
    account: c.key,
    settlement: c.settlement,
    ...(c.chainId === undefined ? {} : { chainId: c.chainId }),
  })
  const files = await readJobInput(folder)
  const chunks = planChunks({ files, chunkSize })
  const fee = 10n ** 15n
  const { spendable } = await client.getEscrow()
  const needed = fee * BigInt(chunks.length + 1)
  if (spendable < needed) await client.deposit({ amount: needed - spendable })

  const started = Date.now()
  const job = await client.submitJob({
    program: new Uint8Array(await readFile(exampleProgramPath('word-count'))),
    reduce: new Uint8Array(await readFile(new URL('../../programs/build/word-count-merge.wasm', import.meta.url))),
    input: files,
    chunkSize,
    fee,
    receipts: true,
    onProgress: (p) => process.stderr.write(`\r${p.phase} ${p.done}/${p.total}   `),
  })
  process.stderr.write('\n')

  const network = parseWordCounts(job.output ?? new Uint8Array())
  const local = countWordsLocally(files.map((f) => f.bytes))
  const same = network.size === local.size && [...local].every(([word, count]) => network.get(word) === count)
  const localRoot = buildChunkOutputTree(chunks.map((ch) => ({ index: ch.index, input: contentId(ch.bytes), resultHash: contentId(wordCountReference(ch.bytes)) }))).root
  const top = [...network].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)).slice(0, 10)

  console.log(`${files.length} files, ${chunks.length} chunks of at most ${chunkSize} bytes: job ${job.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  console.log(`  outputs root      ${job.outputsRoot}${job.outputsRoot === localRoot ? ' (the same as a local run)' : ' (DIFFERS from a local run)'}`)
  console.log(`  receipts          ${job.receiptsValid ? 'every task verified on-chain' : 'NOT all valid'}`)
  console.log(`  word frequencies  ${same ? 'the same as a local count' : 'DIFFERENT from a local count'} (${network.size} distinct words)`)
  console.log('')
  for (const [word, count] of top) console.log(`  ${String(count).padStart(6)}  ${word}`)
  process.exitCode = job.status === 'complete' && same && job.receiptsValid === true && job.outputsRoot === localRoot ? 0 : 1
} finally {
  await stop()
}
