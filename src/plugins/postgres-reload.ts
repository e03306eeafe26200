import { EventEmitter } from 'node:events'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { PostgresDataset } from '../db/postgres/dataset.js'
import type { DatasetService, Generation } from './dataset.js'
import type { DatasetReloader, ReloadResult } from './reload.js'

export interface PostgresReloadOptions {
  service: DatasetService
  dataset: PostgresDataset
}

/**
 * Hot swap on PostgreSQL, the counterpart of src/plugins/reload.ts: a generation is a schema that
 * never changes once served, so nothing needs pinning on disk; the server only has to notice that
 * `<prefix>.current` names another one. It does on the ingest's NOTIFY, on a poll (replicas do not
 * relay NOTIFY; a dropped listening connection misses it), on SIGHUP and POST /admin/reload.
 * Requests in flight finish on the schema they pinned, which the ingest keeps until the next swap.
 */
async function postgresReloadPlugin(app: FastifyInstance, opts: PostgresReloadOptions) {
  const { service, dataset } = opts
  const events = new EventEmitter()
  const retired = new Set<Generation>()

  service.events.on('release', (g: Generation) => {
    if (g.retired && g.refs === 0 && retired.delete(g)) events.emit('drained', g)
  })

  const load = async (reason: string): Promise<ReloadResult> => {
    const previous = service.current()
    const served = await dataset.read()
    if (served === null || served.generation === previous?.id) {
      return { generation: previous?.id ?? null, previous: previous?.id ?? null, changed: false }
    }
    const next = await service.load()
    if (next === null || next.id === previous?.id) {
      return { generation: previous?.id ?? null, previous: previous?.id ?? null, changed: false }
    }
    if (previous) {
      if (previous.refs > 0) retired.add(previous)
      else events.emit('drained', previous)
    }
    app.log.info(
      { generation: next.id, schema: next.dbPath, previous: previous?.id ?? null, reason },
      'dataset generation loaded',
    )
    events.emit('loaded', next, previous)
    return { generation: next.id, previous: previous?.id ?? null, changed: true }
  }

  // One reload at a time; a trigger while one runs is served by the next one after it.
  let chain: Promise<unknown> = Promise.resolve()
  const reload = (reason: string): Promise<ReloadResult> => {
    const run = chain.then(() => load(reason))
    chain = run.catch(() => {})
    return run
  }

  app.decorate('datasetReload', {
    reload,
    draining: () => retired.size,
    events,
  } satisfies DatasetReloader)

  let closed = false
  await dataset.watch(() => {
    if (closed) return
    reload('the served generation changed').catch((err) => app.log.error({ err }, 'reload failed'))
  })
  app.addHook('onClose', async () => {
    closed = true
    await chain
  })
}

export const postgresReload = fp(postgresReloadPlugin, { name: 'marquee-reload' })
