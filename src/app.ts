import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from 'fastify'
import pkg from '../package.json' with { type: 'json' }
import type { Config } from './config.js'
import { requestIdOf } from './context/request-id.js'
import { Problem } from './errors.js'
import { AJV_OPTIONS } from './lib/validator.js'
import { createLogger, lazyChildLogger } from './logger.js'
import datasetPlugin, { type DatasetPluginOptions } from './plugins/dataset.js'
import docsPlugin from './plugins/docs.js'
import errorsPlugin, { clientErrorHandler, sendProblem } from './plugins/errors.js'
import exportPlugin from './plugins/export.js'
import limitsPlugin from './plugins/limits.js'
import metricsPlugin from './plugins/metrics/index.js'
import requestContextPlugin from './plugins/request-context.js'
import requestLogPlugin from './plugins/request-log.js'
import usersPlugin from './plugins/users.js'
import webhookPlugin, { type WebhookPluginOptions } from './plugins/webhook.js'
import adminRoutes from './routes/admin/index.js'
import changeRoutes from './routes/changes/index.js'
import datasetRoutes, { type DatasetRoutesOptions } from './routes/datasets/index.js'
import meRoutes from './routes/me/index.js'
import nameRoutes from './routes/names/index.js'
import ratingRoutes from './routes/ratings/index.js'
import searchRoutes from './routes/search/index.js'
import sqlRoutes from './routes/sql/index.js'
import systemRoutes from './routes/system/index.js'
import titleRoutes from './routes/titles/index.js'
import { keysFileResolver, noKeysResolver, type UserResolver } from './users/api-keys.js'
import { anyResolver } from './users/resolver.js'
import { UsersService } from './users/service.js'
import webPlugin from './web/plugin.js'

export interface BuildAppOptions {
  /** Overrides the logger (tests pass false or a stream). */
  logger?: FastifyServerOptions['logger']
  /** Overrides how API keys resolve to users. */
  users?: UserResolver
  /** Extra dataset-plugin options (tests register slow queries through extraQueryModules). */
  dataset?: Pick<DatasetPluginOptions, 'extraQueryModules' | 'resultCacheAfterMs' | 'cancelGraceMs'>
  /** Readers of the raw files for /datasets/{name}/rows (tests make them scarce). */
  rowReaders?: DatasetRoutesOptions['readers']
  /** The webhook's retry and timeout settings (tests shorten them). */
  webhook?: WebhookPluginOptions['tuning']
}

/** Bytes of a request body at most, unless the route sets its own limit (POST /me/import). */
const BODY_LIMIT = 16 * 1024

/** Builds the marquee app: plugins, then routes. It never listens; server.ts and tests do. */
export async function buildApp(config: Config, opts: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.logger !== undefined
      ? { logger: opts.logger }
      : { loggerInstance: createLogger(config.logLevel) as FastifyBaseLogger }),
    requestIdHeader: false,
    // One line per request instead of Fastify's two: the request-log plugin writes it.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    genReqId: (req) => requestIdOf(req.headers['x-request-id']),
    childLoggerFactory: lazyChildLogger,
    // Requests the router refuses before any hook runs (a bad %-escape, an overlong parameter)
    // still get problem+json with their request id.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id)
      sendProblem(reply, request, new Problem('BAD_REQUEST', { detail: error.message }))
    },
    clientErrorHandler,
    // Idle keep-alive sockets close at shutdown; in-flight requests finish.
    forceCloseConnections: 'idle',
    // Requests that still arrive while closing (on a kept-alive socket, or handed over by the
    // cluster primary just before this worker stopped listening) are served, not refused with 503:
    // a graceful shutdown or a rolling restart loses nothing. Their answers close the connection.
    return503OnClosing: false,
    // Every body but an import (which sets its own) is a few ids or fields: 16 KiB is plenty, and a
    // larger one is refused with 413 before it is read into memory.
    bodyLimit: BODY_LIMIT,
    // Plugins may wait for worker threads to boot (the query pool's warm-up, itself bounded at
    // 30 s): on a busy machine that takes longer than Fastify's default 10 s.
    pluginTimeout: 60_000,
    ajv: { customOptions: AJV_OPTIONS },
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Keys resolve from the --api-keys file or from the user store (`marquee keys create`).
  const usersService = new UsersService({
    usersDbPath: config.usersDbPath,
    databaseUrl: config.databaseUrl,
    schemaPrefix: config.databaseSchema,
  })
  const users =
    opts.users ??
    anyResolver(
      config.apiKeysFile ? await keysFileResolver(config.apiKeysFile) : noKeysResolver,
      usersService.resolver,
    )

  await app.register(errorsPlugin)
  await app.register(requestContextPlugin, {
    users,
    requireApiKey: config.requireApiKey,
    authFailuresPerMinute: config.authFailuresPerMinute,
  })
  await app.register(requestLogPlugin)
  await app.register(metricsPlugin, { adminOnly: config.metricsAdminOnly })
  await app.register(limitsPlugin, config)
  await app.register(docsPlugin, { version: pkg.version })
  await app.register(datasetPlugin, {
    dbPath: config.dbPath,
    poolSize: config.poolSize,
    queryTimeoutMs: config.queryTimeoutMs,
    inlineQueries: config.inlineQueries,
    inlinePointLookups: config.inlinePointLookups,
    resultCacheBytes: config.resultCacheMb * 1024 * 1024,
    postgres: config.databaseUrl
      ? { databaseUrl: config.databaseUrl, schemaPrefix: config.databaseSchema }
      : null,
    // Hot swaps also come from SIGHUP and POST /admin/reload (app.dataset.reload()).
    watchMs: config.watchDbMs,
    ...opts.dataset,
  })
  await app.register(usersPlugin, { service: usersService })
  // After the dataset plugin: announces the generations loaded after the one loaded at start.
  await app.register(webhookPlugin, {
    url: config.webhookUrl,
    secret: config.webhookSecret,
    tuning: opts.webhook,
    userAgent: `marquee/${pkg.version}`,
  })
  // Before the routes: list routes with `config.export` get CSV and NDJSON exports.
  await app.register(exportPlugin, { queryTimeoutMs: config.queryTimeoutMs })
  await app.register(systemRoutes)
  await app.register(adminRoutes)
  await app.register(meRoutes, { prefix: '/me' })
  await app.register(titleRoutes)
  await app.register(nameRoutes)
  await app.register(searchRoutes)
  await app.register(ratingRoutes)
  await app.register(changeRoutes)
  await app.register(datasetRoutes, { dataDir: config.dataDir, readers: opts.rowReaders })
  await app.register(sqlRoutes, {
    // The console runs SQLite SQL in a child process over the database file: not on PostgreSQL.
    enabled: config.sqlEnabled,
    postgres: !!config.databaseUrl,
    rowLimit: config.sqlRowLimit,
    queryTimeoutMs: config.queryTimeoutMs,
  })
  await app.register(webPlugin)

  if (users.close) app.addHook('onClose', async () => users.close?.())
  return app
}
