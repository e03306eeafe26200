import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Generation } from '../dataset/generation.js'
import { type WebhookLogger, WebhookNotifier, type WebhookTuning } from '../notify/webhook.js'

export interface WebhookPluginOptions {
  /** Where to POST when a generation goes live; null: no webhook. */
  url: string | null
  /** The shared secret the body is signed with (the config refuses a URL without one). */
  secret: string | null
  /** Retry and timeout settings (tests shorten them). */
  tuning?: Partial<WebhookTuning>
  userAgent?: string
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The webhook's deliveries (src/notify/webhook.ts); null when no webhook is configured. */
    webhook: WebhookNotifier | null
  }
}

/**
 * Announces every generation that goes live after the server started (a hot swap from
 * `marquee update`, a new ingest, SIGHUP or POST /admin/reload, PostgreSQL's NOTIFY) to the
 * configured webhook. Not the generation loaded at start: that is no change of what this server
 * serves. Registered after the dataset plugin, whose start() has loaded that one already, so every
 * 'loaded' event this listener sees is a later load. The delivery runs on its own: the swap has
 * completed when the listener is called, and nothing waits for the receiver.
 */
async function webhookPlugin(app: FastifyInstance, opts: WebhookPluginOptions) {
  if (!opts.url || !opts.secret) {
    app.decorate('webhook', null)
    return
  }
  const notifier = new WebhookNotifier({
    url: opts.url,
    secret: opts.secret,
    log: app.log.child({ component: 'webhook' }) as WebhookLogger,
    userAgent: opts.userAgent,
    ...opts.tuning,
  })
  const onLoaded = (next: Generation, previous: Generation | null) => {
    // The service emits 'loaded' inside its reload: nothing here may throw into the swap.
    try {
      void notifier.notify({
        generation: next.id,
        previous: previous?.id ?? null,
        loadedAt: next.info().loadedAt,
        liveAt: new Date().toISOString(),
        changes: changesOf(next.manifest),
      })
    } catch (err) {
      app.log.error({ err, generation: next.id }, 'webhook not sent')
    }
  }
  app.dataset.events.on('loaded', onLoaded)
  app.decorate('webhook', notifier)
  app.addHook('onClose', async () => {
    app.dataset.events.off('loaded', onLoaded)
    await notifier.close()
  })
}

/** The manifest's `changes` (`{ since, counts }`, written by the ingest and the refresh), or null. */
function changesOf(manifest: unknown): unknown {
  if (manifest === null || typeof manifest !== 'object') return null
  const changes = (manifest as { changes?: unknown }).changes
  return changes === undefined ? null : changes
}

export default fp(webhookPlugin, { name: 'marquee-webhook', dependencies: ['marquee-dataset'] })
