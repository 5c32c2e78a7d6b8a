export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug'

const rank: Record<LogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 }

export type LogContext = Record<string, unknown>

/** One structured logger: fixed message text plus a context object, one JSON line per record. */
export interface Logger {
  error(message: string, context?: LogContext): void
  warn(message: string, context?: LogContext): void
  info(message: string, context?: LogContext): void
  debug(message: string, context?: LogContext): void
  child(bindings: LogContext): Logger
  readonly level: LogLevel
}

export interface CreateLoggerOptions {
  level?: LogLevel
  bindings?: LogContext
  /** Where lines go; stderr by default so stdout stays for command output. */
  write?: (line: string) => void
}

function serialise(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code }
  return value
}

export function createLogger({ level = 'warn', bindings = {}, write }: CreateLoggerOptions = {}): Logger {
  const out = write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const log = (at: Exclude<LogLevel, 'silent'>, message: string, context: LogContext = {}) => {
    if (rank[at] > rank[level]) return
    out(JSON.stringify({ level: at, time: new Date().toISOString(), msg: message, ...bindings, ...context }, (_k, v) => serialise(v)))
  }
  return {
    level,
    error: (m, c) => log('error', m, c),
    warn: (m, c) => log('warn', m, c),
    info: (m, c) => log('info', m, c),
    debug: (m, c) => log('debug', m, c),
    child: (more) => createLogger({ level, bindings: { ...bindings, ...more }, write: out }),
  }
}

export const silentLogger: Logger = createLogger({ level: 'silent' })
