import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import type { Hex } from '../src/core/types.ts'
import { startExplorerSetup, submitWordCounts } from './helpers/explorerSetup.ts'

// The explorer in a real browser (Debian's headless Chromium driven by playwright-core) against a
// small live network: tasks reach "verified" on the open page as they happen, a settled task's
// receipt checks out in the browser against the on-chain root, and a tampered copy does not.

describe('explorer in a browser', { timeout: 120_000 }, () => {
  let setup: Awaited<ReturnType<typeof startExplorerSetup>>
  let page: Page
  let taskIds: Hex[]

  before(async () => {
    setup = await startExplorerSetup('explorer-e2e')
    page = await setup.browser.newPage()
  })

  after(() => setup?.stop())

  it('shows the network, then tasks reaching "verified" live while the page is open', async () => {
    await page.goto(`${setup.net.nodeApiUrls[0]}/#/`)
    await page.getByText('(this node)').waitFor()
    assert.equal(await page.locator('tbody tr').count(), 3)
    await page.goto(`${setup.net.nodeApiUrls[0]}/#/tasks`)
    await page.locator('#live', { hasText: 'live' }).waitFor()
    taskIds = await submitWordCounts(setup.client, 3)
    // No reload: the page follows the node's event stream.
    for (const id of taskIds) await page.locator(`tr[data-task="${id}"] td[data-outcome="verified"]`).waitFor({ timeout: 60_000 })
  })

  it('shows a settled task’s receipt as valid, checked in the browser against the on-chain root', async () => {
    const taskId = taskIds[0]!
    await setup.client.getReceipt({ taskId, wait: true })
    await page.goto(`${setup.net.nodeApiUrls[0]}/#/task/${taskId}`)
    await page.locator('#receipt-status.valid').waitFor({ timeout: 30_000 })
    assert.match((await page.locator('#receipt-status').textContent()) ?? '', /^valid/)
  })

  it('shows a tampered receipt as invalid', async () => {
    await page.goto(`${setup.net.nodeApiUrls[0]}/#/receipt?task=${taskIds[0]}`)
    const input = page.locator('#receipt-input')
    // The page fills the box with the node's receipt once it has read it.
    await page.waitForFunction('document.querySelector("#receipt-input").value.includes("resultHash")')
    const receipt = JSON.parse(await input.inputValue()) as { resultHash: string }
    await page.locator('#receipt-check').click()
    await page.locator('#receipt-result.valid').waitFor()
    const last = receipt.resultHash.at(-1) === '0' ? '1' : '0'
    await input.fill(JSON.stringify({ ...receipt, resultHash: `${receipt.resultHash.slice(0, -1)}${last}` }))
    await page.locator('#receipt-check').click()
    await page.locator('#receipt-result.invalid').waitFor()
    assert.match((await page.locator('#receipt-result').textContent()) ?? '', /^invalid/)
  })
})
