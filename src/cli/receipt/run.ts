import { readFile } from 'node:fs/promises'
import { createPublicClient, http } from 'viem'
import { verifyReceiptOnChain } from '../../chain/viem/createSettlementClient.ts'
import { UsageError, VeritaskError } from '../../core/errors.ts'
import { isValidReceipt, parseReceipt, receiptToJson } from '../../core/receipt.ts'
import type { Receipt } from '../../core/receipt.ts'
import type { CommandContext } from '../context.ts'
import { exitCodes } from '../options.ts'
import type { ReceiptFlags } from './command.ts'

/** Runs `veritask receipt`: finds the task's receipt, checks it off-chain and, with --rpc-url, on-chain. */
export async function runReceiptCommand(context: CommandContext, taskId: string, flags: ReceiptFlags): Promise<void> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(taskId)) {
    throw new UsageError('USAGE_INVALID_OPTION', `"${taskId}" is not a task id.`, { hint: 'A task id is 0x followed by 64 hex digits.' })
  }
  const receipt = (await loadReceipts(flags.receipts)).find((r) => r.taskId === taskId.toLowerCase())
  if (receipt === undefined) {
    throw new VeritaskError('RECEIPT_NOT_FOUND', `No receipt for task ${taskId} in ${flags.receipts}.`, {
      hint: 'Receipts exist once the task’s epoch is settled; run `veritask devnet` first, or pass --receipts.',
    })
  }
  const offChain = isValidReceipt(receipt)
  let onChain: boolean | null = null
  if (flags.rpcUrl !== undefined) {
    const publicClient = createPublicClient({ transport: http(flags.rpcUrl, { retryCount: 1 }) })
    try {
      onChain = await verifyReceiptOnChain(publicClient, receipt)
    } catch (cause) {
      throw new VeritaskError('CHAIN_UNREACHABLE', `Could not call Settlement.verifyReceipt at ${flags.rpcUrl}.`, {
        cause,
        hint: 'Is the chain running (veritask devnet --serve) and is this the chain the receipt names?',
      })
    }
  }
  const valid = offChain && onChain !== false
  if (flags.json) context.stdout(JSON.stringify({ receipt: receiptToJson(receipt), offChain, onChain, valid }))
  else context.stdout(formatReceipt(receipt, offChain, onChain))
  context.setExitCode(valid ? exitCodes.ok : exitCodes.failure)
}

async function loadReceipts(path: string): Promise<Receipt[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new VeritaskError('RECEIPT_FILE_UNREADABLE', `Cannot read receipts from ${path}.`, {
      cause,
      hint: 'Run `veritask devnet` (it writes .devnet/receipts.json), or pass --receipts <file>.',
    })
  }
  try {
    const json: unknown = JSON.parse(text)
    if (!Array.isArray(json)) throw new Error('expected an array of receipts')
    return json.map(parseReceipt)
  } catch (cause) {
    throw new VeritaskError('RECEIPT_FILE_INVALID', `${path} does not hold valid receipts.`, { cause })
  }
}

function formatReceipt(r: Receipt, offChain: boolean, onChain: boolean | null): string {
  const check = (ok: boolean) => (ok ? 'valid' : 'INVALID')
  return [
    `receipt for task ${r.taskId}`,
    `  outcome      ${r.outcome}`,
    `  result       ${r.resultHash}`,
    `  executors    ${r.executors.join(', ') || '(none)'}`,
    `  epoch        ${r.epoch} (root ${r.outcomesRoot})`,
    `  settlement   ${r.settlement} on chain ${r.chainId}`,
    `  proof        ${r.proof.length} hashes`,
    '',
    `  off-chain    ${check(offChain)} against the epoch root`,
    `  on-chain     ${onChain === null ? 'not checked (pass --rpc-url)' : check(onChain)}`,
  ].join('\n')
}

