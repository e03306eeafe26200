import type { LoggerOptions } from 'pino'
import type { LogLevel } from './config.js'

/** pino options: JSON lines, human-readable through pino-pretty when stdout is a terminal. */
export function loggerOptions(level: LogLevel, pretty = process.stdout.isTTY === true): LoggerOptions {
  return {
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]'], censor: '[redacted]' },
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
