import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packagePath } from '../../packageFiles.ts'
import type { Address, Hex } from '../../core/types.ts'
import type { VeritaskNode } from '../../node/createNode.ts'
import type { BalanceProof } from '../../node/createEpochSettler.ts'
import { ApiError } from '../errors.ts'
import { sendJson } from '../http.ts'
import type { Route } from '../http.ts'
import type { ExplorerChainReads } from './chainReads.ts'
import type { ExplorerIndex } from './createExplorerIndex.ts'

/** Where `npm run build:explorer` writes the web app. */
export const defaultExplorerAssets = packagePath('dist', 'explorer', '/')

const assetTypes: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
}

/** Nothing but this node: no CDN, no inline script, no frames, no form posts anywhere. */
const securityHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

export interface ExplorerRoutesParameters {
  node: VeritaskNode
  index: ExplorerIndex
  chainReads: ExplorerChainReads | undefined
  eligibleNodes: (() => readonly { address: Address; weight: bigint }[]) | undefined
  balanceProofs: ((account: Hex) => BalanceProof | undefined) | undefined
  assetsDir: string
}

const hex32 = /^0x[0-9a-fA-F]{64}$/
const address = /^0x[0-9a-fA-F]{40}$/

/**
 * The explorer: its web app at `/` and the read-only JSON it reads (`/v1/explorer/*`, `/v1/epochs/:epoch/root`).
 * Nothing here changes state: every route is a GET.
 */
export function explorerRoutes({ node, index, chainReads, eligibleNodes, balanceProofs, assetsDir }: ExplorerRoutesParameters): Route[] {
  const cache = new Map<string, Buffer>()
  function asset(name: string): Route['handle'] {
    return ({ res }) => {
      let body = cache.get(name)
      if (body === undefined) {
        try {
          body = readFileSync(join(assetsDir, name))
        } catch {
          throw new ApiError(503, 'API_EXPLORER_NOT_BUILT', 'The explorer’s web app is not built on this node.', {
            details: { assetsDir },
            hint: 'Run `npm run build:explorer` (npm install runs it).',
          })
        }
        cache.set(name, body)
      }
      res.writeHead(200, { 'content-type': assetTypes[name]!, 'content-length': body.byteLength, 'cache-control': 'no-cache', ...securityHeaders })
      res.end(body)
    }
  }

  const network: Route['handle'] = async ({ res }) => {
    const weights = new Map((eligibleNodes?.() ?? []).map((c) => [c.address.toLowerCase(), c.weight]))
    const tallies = new Map(index.nodes().map((t) => [t.address.toLowerCase(), t]))
    const addresses = new Map<string, string>()
    for (const a of [node.address, ...(eligibleNodes?.() ?? []).map((c) => c.address), ...index.nodes().map((t) => t.address)]) {
      if (!addresses.has(a.toLowerCase())) addresses.set(a.toLowerCase(), a)
    }
    const nodes = await Promise.all(
      [...addresses].map(async ([key, a]) => {
        const tally = tallies.get(key)
        const record = await chainReads?.nodeRecord(a as Address).catch(() => undefined)
        return {
          address: a,
          self: key === node.address.toLowerCase(),
          weight: weights.get(key)?.toString() ?? '0',
          stake: record?.stake.toString() ?? null,
          eligibleStake: record?.eligibleStake.toString() ?? null,
          jailed: record?.jailed ?? tally?.jailedUntilBlock !== null,
          jailedUntilBlock: record?.jailedUntilBlock.toString() ?? tally?.jailedUntilBlock ?? null,
          seats: tally?.seats ?? 0,
          agreed: tally?.agreed ?? 0,
          dissented: tally?.dissented ?? 0,
          earned: balanceProofs?.(a as Hex)?.earned.toString() ?? '0',
          slashed: tally?.slashed ?? '0',
        }
      }),
    )
    sendJson(res, 200, { node: node.address, epoch: node.currentEpoch().toString(), stats: node.stats(), nodes })
  }

  const taskPage: Route['handle'] = ({ res, param }) => {
    if (!hex32.test(param)) throw new ApiError(400, 'API_BAD_TASK_ID', 'A task id is 0x followed by 64 hex digits.', { details: { taskId: param } })
    const taskId = param.toLowerCase() as Hex
    const record = index.task(taskId)
    const status = node.getTask(taskId)
    if (record === undefined && status === undefined) {
      throw new ApiError(404, 'API_TASK_NOT_FOUND', 'This node does not know the task.', { details: { taskId }, hint: 'A node knows tasks it accepted.' })
    }
    const epoch = record?.epoch ?? status?.spec.epoch.toString()
    const decided = epoch === undefined ? undefined : node.decidedTasks(BigInt(epoch)).find((t) => t.verdict.taskId === taskId)
    const certificate =
      decided === undefined
        ? null
        : {
            spec: decided.certificate.spec,
            commits: decided.certificate.commits.map((c) => ({ signer: c.signer, commitment: c.message.commitment })),
            reveals: decided.certificate.reveals.map((r) => ({ signer: r.signer, status: r.message.status, resultHash: r.message.resultHash })),
          }
    sendJson(res, 200, { record: record ?? null, status: status ?? null, certificate })
  }

  const root: Route['handle'] = async ({ res, param }) => {
    if (!/^\d{1,20}$/.test(param)) throw new ApiError(400, 'API_BAD_EPOCH', 'An epoch is a decimal number.', { details: { epoch: param } })
    if (chainReads === undefined) {
      throw new ApiError(503, 'API_CHAIN_UNAVAILABLE', 'This node serves no chain reads.', { hint: 'Read Settlement.outcomesRootOf(epoch) from the chain yourself.' })
    }
    const outcomesRoot = await chainReads.outcomesRoot(BigInt(param))
    if (outcomesRoot === null) throw new ApiError(404, 'RECEIPT_NOT_READY', 'The epoch is not settled on-chain yet.', { details: { epoch: param } })
    sendJson(res, 200, { epoch: param, outcomesRoot })
  }

  return [
    { method: 'GET', name: '/', pattern: /^\/$/, handle: asset('index.html') },
    { method: 'GET', name: '/explorer/app.js', pattern: /^\/explorer\/app\.js$/, handle: asset('app.js') },
    { method: 'GET', name: '/explorer/style.css', pattern: /^\/explorer\/style\.css$/, handle: asset('style.css') },
    { method: 'GET', name: '/v1/explorer/network', pattern: /^\/v1\/explorer\/network$/, handle: network },
    {
      method: 'GET',
      name: '/v1/explorer/tasks',
      pattern: /^\/v1\/explorer\/tasks$/,
      handle: ({ res, query }) => {
        const requester = query.get('requester') ?? undefined
        if (requester !== undefined && !address.test(requester)) {
          throw new ApiError(400, 'API_BAD_ACCOUNT', 'An account is 0x followed by 40 hex digits.', { details: { requester } })
        }
        const outcome = query.get('outcome') ?? undefined
        const limit = Number(query.get('limit') ?? NaN)
        sendJson(res, 200, { tasks: index.tasks({ requester, outcome, ...(Number.isInteger(limit) && limit > 0 ? { limit } : {}) }) })
      },
    },
    { method: 'GET', name: '/v1/explorer/tasks/:taskId', pattern: /^\/v1\/explorer\/tasks\/([^/]*)$/, handle: taskPage },
    { method: 'GET', name: '/v1/explorer/epochs', pattern: /^\/v1\/explorer\/epochs$/, handle: ({ res }) => sendJson(res, 200, { epochs: index.epochs() }) },
    { method: 'GET', name: '/v1/explorer/series', pattern: /^\/v1\/explorer\/series$/, handle: ({ res }) => sendJson(res, 200, index.series()) },
    { method: 'GET', name: '/v1/epochs/:epoch/root', pattern: /^\/v1\/epochs\/([^/]*)\/root$/, handle: root },
  ]
}
