// Merkle tree benchmark: building an epoch's outcomes tree and proving receipts against it with
// OpenZeppelin's StandardMerkleTree (what settlement used before) and with src/core/merkleTree.ts
// (what it uses now), side by side in one run, on the same leaves, for 100, 1,000 and 10,000 tasks.
//
// Usage: npm run bench:merkle [-- --quick]   (node --expose-gc --import tsx bench/merkle.ts [--quick])
//   --quick  100 and 1,000 leaves only, one build each; results go to bench/results/quick/.
// Prints a table and writes bench/results/merkle.json and bench/results/merkle.md.
//
// Leaves are outcome leaves as the batch builder makes them, (taskId, resultHash, status,
// executors), with three checksummed executors drawn from 50 nodes. A build is timed from the
// leaves to the root; the proofs are 100 receipts' proofs, asked by leaf as buildReceipt does.
// The two implementations alternate within each repetition, and every root and proof is checked
// to be the same in both.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { getAddress } from 'viem'
import { outcomeLeafEncoding } from '../src/core/epochBatch.ts'
import type { OutcomeLeaf } from '../src/core/epochBatch.ts'
import { keccak256Hex } from '../src/core/keccak.ts'
import { createMerkleTree } from '../src/core/merkleTree.ts'
import type { Address } from '../src/core/types.ts'
import { machine, median, quickFlag, today, writeResults } from './lib/report.ts'

const quick = quickFlag('npm run bench:merkle [-- --quick]')
/** Leaves per tree, with how many builds to take the median of. */
const SIZES: ReadonlyArray<{ leaves: number; builds: number }> = quick
  ? [
      { leaves: 100, builds: 1 },
      { leaves: 1_000, builds: 1 },
    ]
  : [
      { leaves: 100, builds: 25 },
      { leaves: 1_000, builds: 7 },
      { leaves: 10_000, builds: 3 },
    ]
const PROOFS = 100
const NODES = 50

const encoder = new TextEncoder()
const hashOf = (label: string) => keccak256Hex(encoder.encode(label))
const nodes: Address[] = Array.from({ length: NODES }, (_, i) => getAddress(hashOf(`node ${i}`).slice(0, 42)))

/** `count` outcome leaves, distinct per `salt` so that no repetition hashes the leaves of another. */
function outcomeLeaves(count: number, salt: string): OutcomeLeaf[] {
  return Array.from({ length: count }, (_, i) => [
    hashOf(`${salt} task ${i}`),
    hashOf(`${salt} result ${i}`),
    i % 3,
    [nodes[i % NODES]!, nodes[(i + 17) % NODES]!, nodes[(i + 31) % NODES]!],
  ])
}

const gc = (globalThis as { gc?: () => void }).gc
function time<R>(run: () => R): { ms: number; result: R } {
  gc?.()
  const start = performance.now()
  const result = run()
  return { ms: performance.now() - start, result }
}

interface Row {
  leaves: number
  builds: number
  proofs: number
  openZeppelin: { buildMs: number; proofsMs: number }
  ours: { buildMs: number; proofsMs: number }
  /** OpenZeppelin's time over ours. */
  buildRatio: number
  proofsRatio: number
}

// Warm-up, so that the figures are a running node's, not the first compilations' (viem's encoder takes
// some 30 builds of 100 leaves to reach its steady speed).
for (let i = 0; i < 40; i++) {
  const leaves = outcomeLeaves(200, `warm-up ${i}`)
  const ours = createMerkleTree(leaves, outcomeLeafEncoding)
  const reference = i % 4 === 0 ? StandardMerkleTree.of(leaves, [...outcomeLeafEncoding]) : undefined
  for (const leaf of leaves.slice(0, 20)) {
    ours.getProof(leaf)
    reference?.getProof(leaf)
  }
}

const rows: Row[] = []
for (const { leaves: size, builds } of SIZES) {
  const samples = { ozBuild: [] as number[], ozProofs: [] as number[], ourBuild: [] as number[], ourProofs: [] as number[] }
  for (let rep = 0; rep < builds; rep++) {
    const leaves = outcomeLeaves(size, `${size} ${rep}`)
    const proved = Array.from({ length: PROOFS }, (_, i) => leaves[Math.floor((i * size) / PROOFS)]!)
    const runOz = () => {
      const build = time(() => StandardMerkleTree.of(leaves, [...outcomeLeafEncoding]))
      const proofs = time(() => proved.map((leaf) => build.result.getProof(leaf)))
      samples.ozBuild.push(build.ms)
      samples.ozProofs.push(proofs.ms)
      return { root: build.result.root, proofs: proofs.result }
    }
    const runOurs = () => {
      const build = time(() => createMerkleTree(leaves, outcomeLeafEncoding))
      const proofs = time(() => proved.map((leaf) => build.result.getProof(leaf)))
      samples.ourBuild.push(build.ms)
      samples.ourProofs.push(proofs.ms)
      return { root: build.result.root, proofs: proofs.result }
    }
    // Alternate which goes first, so that neither always runs on the other's garbage.
    const oursFirst = rep % 2 === 1
    const early = oursFirst ? runOurs() : runOz()
    const late = oursFirst ? runOz() : runOurs()
    const [oz, ours] = oursFirst ? [late, early] : [early, late]
    if (oz.root !== ours.root || JSON.stringify(oz.proofs) !== JSON.stringify(ours.proofs)) {
      throw new Error(`the two trees differ for ${size} leaves (repetition ${rep})`)
    }
  }
  const row: Row = {
    leaves: size,
    builds,
    proofs: PROOFS,
    openZeppelin: { buildMs: median(samples.ozBuild), proofsMs: median(samples.ozProofs) },
    ours: { buildMs: median(samples.ourBuild), proofsMs: median(samples.ourProofs) },
    buildRatio: median(samples.ozBuild) / median(samples.ourBuild),
    proofsRatio: median(samples.ozProofs) / median(samples.ourProofs),
  }
  rows.push(row)
  console.error(
    `${size} leaves: build ${row.openZeppelin.buildMs.toFixed(1)} ms (OpenZeppelin) vs ${row.ours.buildMs.toFixed(1)} ms (ours), ×${row.buildRatio.toFixed(1)}; ` +
      `${PROOFS} proofs ${row.openZeppelin.proofsMs.toFixed(1)} ms vs ${row.ours.proofsMs.toFixed(2)} ms, ×${row.proofsRatio.toFixed(0)}`,
  )
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1))
const ratio = (x: number) => `×${x < 10 ? x.toFixed(1) : x.toFixed(0)}`
const table = [
  `| leaves | build, OpenZeppelin (ms) | build, ours (ms) | OpenZeppelin ÷ ours | ${PROOFS} proofs, OpenZeppelin (ms) | ${PROOFS} proofs, ours (ms) | OpenZeppelin ÷ ours |`,
  '|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.leaves.toLocaleString('en-US')} | ${ms(r.openZeppelin.buildMs)} | ${ms(r.ours.buildMs)} | ${ratio(r.buildRatio)} | ${ms(r.openZeppelin.proofsMs)} | ${ms(r.ours.proofsMs)} | ${ratio(r.proofsRatio)} |`,
  ),
].join('\n')
console.log(table)

const markdown = `# Merkle trees: OpenZeppelin's StandardMerkleTree and core/merkleTree.ts

${today()}, ${machine()}, ${quick ? 'quick' : 'full'} mode.

Every committee member builds an epoch's outcomes tree (one leaf per task: \`(bytes32 taskId, bytes32 resultHash, uint8 status, address[] executors)\`) and its balances tree when it checks the batch, and a node builds the outcomes tree again to serve receipts. Both trees are in OpenZeppelin's standard format, which \`MerkleProof.verify\` checks on-chain. The table times the same leaves with \`StandardMerkleTree.of\` / \`getProof\` of \`@openzeppelin/merkle-tree\` and with \`createMerkleTree\` / \`getProof\` of \`src/core/merkleTree.ts\`, in one process, alternating; roots and proofs were checked to be identical. Leaves carry three checksummed executors drawn from ${NODES} nodes. A build is from the leaves to the root; the proofs are ${PROOFS} receipts' proofs asked by leaf, as \`buildReceipt\` does. Figures are medians of ${SIZES.map((s) => `${s.builds} builds at ${s.leaves.toLocaleString('en-US')} leaves`).join(', ')}, after a warm-up.

${table}

Where the time goes: OpenZeppelin encodes leaves with \`@metamask/abi-utils\`, and each proof hashes its leaf twice (to find it, and to check that the stored value still matches) and then verifies the proof it made. \`core/merkleTree.ts\` encodes with viem's \`encodeAbiParameters\`, hashes with \`core/keccak.ts\` (several times faster than viem's keccak on these inputs), keeps the nodes in one byte array, and finds a leaf's position in a map: a proof is one leaf hash plus one sibling per level.
`

await writeResults('merkle', {
  quick,
  json: { date: today(), machine: machine(), mode: quick ? 'quick' : 'full', leafEncoding: outcomeLeafEncoding, executorsPerLeaf: 3, nodes: NODES, rows },
  markdown,
})
