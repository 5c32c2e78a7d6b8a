// Shared helpers of the benchmark scripts: the machine line, quantiles, the --quick flag, and writing results.
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg, totalmem } from 'node:os'

/** The load average when the benchmark script started (this module loads first). */
const loadAtStart = loadavg()

/** The machine, as the results describe it, with the load when the run started and ended. */
export function machine(): string {
  const at = (load: number[]) => `${load[0]?.toFixed(2)} / ${load[1]?.toFixed(2)}`
  return `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.versions.node}, load average (1 / 5 min) ${at(loadAtStart)} at the start and ${at(loadavg())} at the end of the run (2 cores: above 2, other work was competing for them)`
}

export const today = (): string => new Date().toISOString().slice(0, 10)

/** The q-quantile (0..1) by the nearest-rank method; 0 for no values. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return 0
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number
}

export const median = (values: ArrayLike<number>): number => quantile(values, 0.5)

/**
 * Writes bench/results/<name>.json and <name>.md; with `quick`, under bench/results/quick/ (not
 * committed), so that a short look never replaces a full run's figures.
 */
export async function writeResults(name: string, { quick, json, markdown }: { quick: boolean; json: unknown; markdown: string }): Promise<void> {
  const dir = quick ? 'bench/results/quick' : 'bench/results'
  await mkdir(dir, { recursive: true })
  const replacer = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)
  await writeFile(`${dir}/${name}.json`, `${JSON.stringify(json, replacer, 2)}\n`)
  await writeFile(`${dir}/${name}.md`, markdown.endsWith('\n') ? markdown : `${markdown}\n`)
  console.error(`wrote ${dir}/${name}.md and .json`)
}

/**
 * The `--quick` flag of a benchmark that takes no other argument: exits with a usage line (code 2)
 * on anything else.
 */
export function quickFlag(usage: string): boolean {
  const args = process.argv.slice(2)
  for (const arg of args) {
    if (arg !== '--quick') {
      console.error(`unknown argument '${arg}'\nusage: ${usage}`)
      process.exit(2)
    }
  }
  return args.includes('--quick')
}
