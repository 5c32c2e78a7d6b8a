/** What a command needs from its surroundings, passed in so commands can be run from tests. */
export interface CommandContext {
  stdout(text: string): void
  stderr(text: string): void
  setExitCode(code: number): void
  signal: AbortSignal
  /** Environment variables (secrets such as keys come from here, never from flags). */
  env: Readonly<Record<string, string | undefined>>
}
