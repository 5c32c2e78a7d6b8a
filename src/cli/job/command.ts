import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Command, Option } from 'commander'
import { UsageError, VeritaskError } from '../../core/errors.ts'
import { JobInterruptedError } from '../../sdk/errors.ts'
import type { JobReport } from '../../sdk/actions/submitJob.ts'
import type { SplitMode } from '../../sdk/chunking.ts'
import { assertWasmProgram } from '../../sdk/program.ts'
import { readJobInput } from '../../sdk/readInput.ts'
import type { CommandContext } from '../context.ts'
import { connectClient, toJson, withConnectionOptions } from '../connection.ts'
import type { ConnectionFlags } from '../connection.ts'
import { exitCodes, integerOption } from '../options.ts'
import { createProgressBar } from '../progress.ts'
import { printable } from '../submit/command.ts'
import { readInputFile, termsOf, withTermsOptions } from '../taskTerms.ts'
import type { TermsFlags } from '../taskTerms.ts'

interface JobFlags extends ConnectionFlags, TermsFlags {
  input: string
  reduce?: string
  chunkSize?: number
  split: SplitMode
  concurrency: number
  maxAttempts: number
  receipts: boolean
  report: string
  resume?: string
  out?: string
  json: boolean
}

export const defaultJobReport = '.veritask/job.json'

/** The report as written to disk: outputs left out (they can be large; results are served by content id). */
export function jobReportJson(report: JobReport): string {
  const chunks = report.chunks.map(({ output: _output, ...chunk }) => chunk)
  const { output: _output, ...rest } = report
  return toJson({ ...rest, chunks })
}

async function readReport(path: string): Promise<JobReport> {
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as JobReport
    if (!Array.isArray(json.chunks)) throw new Error('no chunks')
    return json
  } catch (cause) {
    throw new UsageError('USAGE_INVALID_OPTION', `--resume ${path} is not a job report.`, { cause, hint: `Pass the report an earlier \`veritask job\` wrote (${defaultJobReport} by default).` })
  }
}

export function jobCommand(context: CommandContext): Command {
  return withTermsOptions(
    withConnectionOptions(
      new Command('job')
        .description('Run a program over a file or a directory of files, chunk by chunk, each chunk a verified task; optionally reduce the outputs.')
        .argument('<program>', 'the map program (.wasm), run once per chunk')
        .requiredOption('--input <path>', 'a file, or a directory of files (read recursively)'),
    ),
  )
    .addOption(new Option('--reduce <program>', 'a reduce program (.wasm) over the verified chunk outputs'))
    .addOption(new Option('--chunk-size <bytes>', 'largest chunk (default: one chunk per file)').argParser(integerOption(1, 16 * 1024 * 1024)))
    .addOption(new Option('--split <mode>', 'cut chunks at whole lines/words, or exactly every chunk size').choices(['lines', 'bytes']).default('lines'))
    .addOption(new Option('--concurrency <n>', 'chunks in flight at once').default(32).argParser(integerOption(1, 1_000)))
    .addOption(new Option('--max-attempts <n>', 'attempts per chunk when its task ends unresolved').default(3).argParser(integerOption(1, 10)))
    .option('--receipts', 'wait until every task is settled and verify its receipt on-chain', false)
    .addOption(new Option('--report <file>', 'where to write the job report (every chunk, its tasks and outcome)').default(defaultJobReport))
    .addOption(new Option('--resume <report>', 'run only the chunks an earlier report left unfinished'))
    .addOption(new Option('--out <file>', 'write the final output (the reduce, or a single chunk) to this file'))
    .addOption(new Option('--json', 'print the job report as JSON').default(false))
    .addHelpText(
      'after',
      '\nExample:\n  $ veritask job programs/build/word-count.wasm --input examples/word-frequencies/texts \\\n      --reduce programs/build/word-count-merge.wasm --chunk-size 4096 --out counts.tsv\n',
    )
    .action(async (programPath: string, flags: JobFlags) => {
      const program = await readInputFile(programPath, 'the program')
      assertWasmProgram(program, programPath)
      const reduce = flags.reduce === undefined ? undefined : await readInputFile(flags.reduce, 'the reduce program')
      if (reduce !== undefined) assertWasmProgram(reduce, flags.reduce)
      const resume = flags.resume === undefined ? undefined : await readReport(flags.resume)
      // Read before connecting: a missing or empty input fails without touching the network.
      const files = await readJobInput(flags.input)
      const client = await connectClient(flags, context)
      const bar = createProgressBar()
      let report: JobReport
      const save = async (r: JobReport) => {
        await mkdir(dirname(flags.report), { recursive: true })
        await writeFile(flags.report, jobReportJson(r))
      }
      try {
        report = await client.submitJob({
          program,
          input: files,
          ...(reduce ? { reduce } : {}),
          ...(flags.chunkSize ? { chunkSize: flags.chunkSize } : {}),
          split: flags.split,
          ...termsOf(flags),
          concurrency: flags.concurrency,
          maxAttempts: flags.maxAttempts,
          receipts: flags.receipts,
          ...(resume ? { resume } : {}),
          onProgress: (p) => bar.update(p.done, p.total, `${p.phase}  verified ${p.verified}  failed ${p.failed}  unresolved ${p.unresolved}`),
          signal: context.signal,
        })
      } catch (error) {
        if (!(error instanceof JobInterruptedError)) throw error
        // Keep what was submitted, so that --resume finishes the job without paying twice.
        bar.done()
        await save(error.report)
        context.stderr(`job interrupted: the report of what was submitted is in ${flags.report}; finish it with --resume ${flags.report}`)
        throw error.cause instanceof VeritaskError || context.signal.aborted ? error.cause : error
      }
      bar.done()
      await save(report)
      if (flags.out !== undefined && report.output !== undefined) await writeFile(flags.out, report.output)

      if (flags.json) context.stdout(jobReportJson(report))
      else context.stdout(formatJob(report, flags))
      const ok = report.status === 'complete' && report.receiptsValid !== false
      context.setExitCode(ok ? exitCodes.ok : exitCodes.failure)
    })
}

function formatJob(report: JobReport, flags: JobFlags): string {
  const { counts } = report
  const lastReduce = report.reduceSteps.at(-1)
  const notDone = report.chunks.filter((c) => c.status !== 'verified')
  const receipts = report.chunks.filter((c) => c.receiptValid !== undefined).length + report.reduceSteps.filter((s) => s.receiptValid !== undefined).length
  const text = report.output === undefined || flags.out !== undefined || report.output.length > 4096 ? undefined : printable(report.output)
  const unprinted = report.output !== undefined && flags.out === undefined && text === undefined
  return [
    `job ${report.status}: ${report.chunks.length} chunks of ${flags.input}`,
    `  verified      ${counts.verified}`,
    `  failed        ${counts.failed}`,
    `  unresolved    ${counts.unresolved}`,
    `  rejected      ${counts.rejected}`,
    ...notDone.slice(0, 10).map((c) => `    chunk ${c.index} (${c.source} @${c.offset}): ${c.status}${c.attempts.at(-1)?.error ? ` ${c.attempts.at(-1)!.error}` : ''}, ${c.attempts.length} attempt(s)`),
    ...(notDone.length > 10 ? [`    … ${notDone.length - 10} more in the report`] : []),
    `  outputs root  ${report.outputsRoot ?? '(not every chunk verified)'}`,
    ...(flags.reduce !== undefined ? [`  reduce        ${lastReduce === undefined ? 'not run' : `${lastReduce.status} in ${report.reduceSteps.length} task(s)`}`] : []),
    ...(flags.receipts ? [`  receipts      ${receipts} checked on-chain: ${report.receiptsValid ? 'all valid' : 'SOME INVALID'}`] : []),
    `  report        ${flags.report}`,
    ...(flags.out !== undefined && report.output !== undefined ? [`  output        written to ${flags.out}`] : []),
    ...(unprinted ? [`  output        ${report.output!.length} bytes: pass --out <file> to keep them`] : []),
    ...(text !== undefined ? ['', text.trimEnd()] : []),
  ].join('\n')
}
