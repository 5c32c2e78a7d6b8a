// Makes the README's explorer screenshots (docs/explorer-*.png) from the browser test's setup:
// a small live network, a few tasks, Debian's headless Chromium. Run: npm run screenshots
import { fileURLToPath } from 'node:url'
import { startExplorerSetup, submitWordCounts } from '../test/helpers/explorerSetup.ts'

const docs = fileURLToPath(new URL('../docs/', import.meta.url))
const setup = await startExplorerSetup('explorer-screenshots')
try {
  const page = await setup.browser.newPage({ viewport: { width: 1280, height: 760 } })
  const url = setup.net.nodeApiUrls[0]!
  await page.goto(`${url}/#/tasks`)
  await page.locator('#live', { hasText: 'live' }).waitFor()
  const ids = await submitWordCounts(setup.client, 6)
  for (const id of ids) await page.locator(`tr[data-task="${id}"] td[data-outcome="verified"]`).waitFor({ timeout: 60_000 })
  await page.screenshot({ path: `${docs}explorer-tasks.png` })
  await setup.client.getReceipt({ taskId: ids[0]!, wait: true })
  await page.goto(`${url}/#/`)
  await page.getByText('(this node)').waitFor()
  await page.screenshot({ path: `${docs}explorer-network.png` })
  await page.goto(`${url}/#/task/${ids[0]}`)
  await page.locator('#receipt-status.valid').waitFor({ timeout: 30_000 })
  await page.screenshot({ path: `${docs}explorer-task.png` })
  console.log(`wrote ${docs}explorer-{tasks,network,task}.png`)
} finally {
  await setup.stop()
}
