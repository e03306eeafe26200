import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { forbidden, unauthorized } from '../../errors.js'
import { unitOfWork } from '../../plugins/users.js'
import { isStoreUser } from '../../users/store.js'
import importRoutes from './import.js'
import ratingsRoutes from './ratings.js'
import watchlistRoutes from './watchlist.js'

/**
 * /me: the signed-in user's watchlist, ratings and import. Register with `{ prefix: '/me' }`.
 * Writes go through `request.uow` (one transaction per request, committed when the handler
 * succeeds); title facts come from the dataset through `app.users.titles`.
 */
const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Before the body is read: a 10,000-item import without a key is refused unparsed.
  app.addHook('onRequest', async (request) => {
    const user = request.ctx.user
    if (!user) {
      throw unauthorized('Personal routes need an API key: send Authorization: Bearer <key> or X-API-Key.')
    }
    if (!isStoreUser(user)) {
      throw forbidden(
        'This key comes from the --api-keys file, which keeps no personal data; ' +
          'use a key made with `marquee keys create`.',
      )
    }
  })
  await app.register(unitOfWork)
  await app.register(watchlistRoutes)
  await app.register(ratingsRoutes)
  await app.register(importRoutes)
}

export default meRoutes
