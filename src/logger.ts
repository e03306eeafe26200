import type { FastifyBaseLogger } from 'fastify'
import { type Bindings, type ChildLoggerOptions, type Logger, type LoggerOptions, pino } from 'pino'
import type { LogLevel } from './config.js'

/**
 * pino options: JSON lines, human-readable through pino-pretty when stdout is a terminal. No line
 * carries request headers (the request log writes method, url, status and time), so there is no
 * redaction pass to pay for on every line.
 */
export function loggerOptions(level: LogLevel, pretty = process.stdout.isTTY === true): LoggerOptions {
  return {
    level,
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
  }
}

/**
 * The server's logger. JSON lines go to stdout asynchronously and in batches: lines gather until
 * there are LOG_BATCH_BYTES of them (under load, about 40 request lines per write() instead of one
 * write each, whose scheduling and callback cost 2.5% of the main thread on /health), or for at most
 * LOG_FLUSH_MS, so an idle server's lines still appear at once to a reader. pino flushes what is
 * left when the process exits.
 */
export function createLogger(level: LogLevel, pretty = process.stdout.isTTY === true): Logger {
  const options = loggerOptions(level, pretty)
  if (pretty) return pino(options)
  return pino(
    options,
    pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS }),
  )
}

const LOG_BATCH_BYTES = 8192
const LOG_FLUSH_MS = 200

type LogMethod = (...args: unknown[]) => void

/**
 * A request's logger that makes its pino child (with the request id) only when the request logs
 * something of its own. Most requests log nothing but the request line, which the request-log
 * plugin writes through the parent; making a child for each of them was a measurable part of a
 * /health request's cost. A class, so that a request pays for one small object, not for closures.
 */
class LazyChildLogger {
  #child: FastifyBaseLogger | null = null

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
  ) {}

  #real(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings, this.opts)
    return this.#child
  }

  get level(): string {
    return this.#child?.level ?? this.opts.level ?? this.parent.level
  }
  set level(level: string) {
    this.#real().level = level
  }
  fatal(...args: unknown[]) {
    ;(this.#real().fatal as LogMethod)(...args)
  }
  error(...args: unknown[]) {
    ;(this.#real().error as LogMethod)(...args)
  }
  warn(...args: unknown[]) {
    ;(this.#real().warn as LogMethod)(...args)
  }
  info(...args: unknown[]) {
    ;(this.#real().info as LogMethod)(...args)
  }
  debug(...args: unknown[]) {
    ;(this.#real().debug as LogMethod)(...args)
  }
  trace(...args: unknown[]) {
    ;(this.#real().trace as LogMethod)(...args)
  }
  silent(...args: unknown[]) {
    ;(this.#real().silent as LogMethod)(...args)
  }
  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, opts)
  }
}

/** Fastify's `childLoggerFactory`: see LazyChildLogger. */
export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions) {
  return new LazyChildLogger(parent, bindings, opts) as unknown as FastifyBaseLogger
}
