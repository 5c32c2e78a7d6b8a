import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'
import { startLocalNetwork } from '../../src/devnet/localNetwork.ts'
import type { LocalNetwork } from '../../src/devnet/localNetwork.ts'
import type { Hex } from '../../src/core/types.ts'
import { exampleProgramPath } from '../../src/programs/examplePrograms.ts'
import type { VeritaskClient } from '../../src/sdk/index.ts'
import { localRequester } from './localRequester.ts'

/** Debian's Chromium; never a downloaded browser (.ci/run installs the package when missing). */
export const chromiumPath = process.env.VERITASK_CHROMIUM ?? '/usr/bin/chromium'

/** The explorer test's and the screenshot script's setup: built assets, a small live network, a requester, a headless browser. */
export async function startExplorerSetup(seed: string): Promise<{ net: LocalNetwork; client: VeritaskClient; browser: Browser; stop(): Promise<void> }> {
  execFileSync(process.execPath, [new URL('../../scripts/build-explorer.mjs', import.meta.url).pathname], { stdio: 'inherit' })
  const net = await startLocalNetwork({ nodes: 3, seed })
  let browser: Browser | undefined
  try {
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu'] })
  } catch (error) {
    await net.stop()
    throw error
  }
  const client = localRequester(net)
  return {
    net,
    client,
    browser,
    async stop() {
      await browser?.close()
      await net.stop()
    },
  }
}

/** Deposits, then submits `count` word-count tasks; resolves with their ids. */
export async function submitWordCounts(client: VeritaskClient, count: number): Promise<Hex[]> {
  const program = new Uint8Array(await readFile(exampleProgramPath('word-count')))
  const fee = 10n ** 15n
  await client.deposit({ amount: fee * BigInt(count) * 2n })
  const ids: Hex[] = []
  for (let i = 0; i < count; i++) {
    const { taskId } = await client.submitTask({ program, input: new TextEncoder().encode(`explorer task ${i}: the quick brown fox`), fee })
    ids.push(taskId)
  }
  return ids
}
