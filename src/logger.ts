import { type Logger, type LoggerOptions, pino } from 'pino'
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
