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
 * The server's logger. JSON lines go to stdout asynchronously: while one write is in flight the
 * next lines gather behind it, so under load many request lines leave in one write() instead of one
 * each, and an idle server still writes every line at once. pino flushes what is left when the
 * process exits.
 */
export function createLogger(level: LogLevel, pretty = process.stdout.isTTY === true): Logger {
  const options = loggerOptions(level, pretty)
  return pretty ? pino(options) : pino(options, pino.destination({ dest: 1, sync: false }))
}

type LogMethod = (...args: unknown[]) => void

/**
 * Fastify's `childLoggerFactory`: a request's logger that makes its pino child (with the request
 * id) only when the request logs something of its own. Most requests log nothing but the request
 * line, which the request-log plugin writes through the parent; making a child for each of them
 * was a measurable part of a /health request's cost.
 */
export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions) {
  let child: FastifyBaseLogger | null = null
  const real = () => {
    child ??= parent.child(bindings, opts)
    return child
  }
  const method =
    (name: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'): LogMethod =>
    (...args) =>
      (real()[name] as LogMethod)(...args)
  return {
    get level() {
      return child?.level ?? parent.level
    },
    set level(level: string) {
      real().level = level
    },
    fatal: method('fatal'),
    error: method('error'),
    warn: method('warn'),
    info: method('info'),
    debug: method('debug'),
    trace: method('trace'),
    silent: method('silent'),
    child: (b: Bindings, o?: ChildLoggerOptions) => real().child(b, o),
  } as unknown as FastifyBaseLogger
}
