#!/usr/bin/env node
// The CLI's bundle (scripts/build-cli.mjs): one file loads faster than the ~1,400 modules it holds.
import { main } from '../dist/bundle/veritask.js'

process.exitCode = await main(process.argv)
