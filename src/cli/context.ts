/** What a command needs from its surroundings, passed in so commands can be run from tests. */
export interface CommandContext {
  stdout(text: string): void
  stderr(text: string): void
  setExitCode(code: number): void
  signal: AbortSignal
}
