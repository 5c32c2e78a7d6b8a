// Runs the CLI from TypeScript source, without a build: `npx tsx scripts/dev.ts devnet`.
import { main } from '../src/cli/main.ts'

process.exitCode = await main(process.argv)
