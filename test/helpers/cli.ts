import { main } from '../../src/cli/main.ts'

/** Runs the `veritask` CLI in-process, capturing what it prints. */
export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(['node', 'veritask', ...args], {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    signal: new AbortController().signal,
  })
  return { code, stdout: out.join('\n'), stderr: err.join('\n') }
}
