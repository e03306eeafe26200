import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { serviceUnavailable } from '../errors.js'
import type { UsersService } from '../users/service.js'
import { type BeginOptions, WriterBusyError } from '../users/store.js'
import { UnitOfWork } from '../users/unit-of-work.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The user store (opened on first need), the key resolver over it, title lookups. */
    users: UsersService
  }
  interface FastifyRequest {
    /**
     * The request's unit of work over the user store, in scopes that register `unitOfWork` (the
     * /me routes): the first write opens one transaction that every write of the request shares; it
     * commits when the handler succeeds (status < 400) and rolls back when it fails or the client
     * goes away.
     */
    uow: UnitOfWork
  }
}

export interface UsersPluginOptions {
  /** The service (app.ts builds it first: its key resolver feeds the request-context plugin). */
  service: UsersService
}

const usersBusy = () =>
  serviceUnavailable('USERS_BUSY', 'The user store is busy with other writes; retry shortly.', 1)

/**
 * The user store. The store's migrations run here at start when its file exists, so a database from
 * a newer marquee stops the server with a clear message.
 */
async function usersPlugin(app: FastifyInstance, opts: UsersPluginOptions) {
  const { service } = opts
  await service.store()
  app.decorate('users', service)
  app.addHook('onClose', () => service.close())
  app.decorateRequest('uow', null as unknown as UnitOfWork)
}

export interface UnitOfWorkOptions {
  /** Longest wait for the writer before a request gets 503 USERS_BUSY. */
  writeWaitMs?: number
}

/**
 * The request-scoped unit of work, for the routes of the scope that registers it (the /me routes:
 * the only ones that write), so that the dataset's read routes, most of the traffic, never pay for
 * a unit of work they cannot use. (fastify-plugin makes its hooks the registering scope's, not a
 * child's.)
 */
async function unitOfWorkPlugin(app: FastifyInstance, opts: UnitOfWorkOptions) {
  const service = app.users
  const begin = async (o: BeginOptions) => {
    const store = await service.store()
    if (!store) throw new Error('there is no user database')
    try {
      return await store.begin(o)
    } catch (err) {
      throw err instanceof WriterBusyError ? usersBusy() : err
    }
  }
  const writeWaitMs = opts.writeWaitMs ?? 10_000
  // The hooks are callback-style and finish synchronously when the request opened no transaction:
  // most requests never write, and they must not pay for (or be reordered by) an extra await.
  app.addHook('onRequest', (request, reply, done) => {
    request.uow = new UnitOfWork({ begin, response: reply.raw, writeWaitMs })
    done()
  })
  // The handler (or a hook) threw: undo before the error response goes out.
  app.addHook('onError', (request, _reply, _error, done) => {
    if (!request.uow?.pending) return done()
    request.uow.rollback().then(() => done())
  })
  // Success is decided here, before a byte is sent: the client never sees 2xx for work not committed.
  // A failing commit is passed on, and Fastify answers with the error instead.
  app.addHook('onSend', (request, reply, payload, done) => {
    const uow = request.uow
    if (!uow?.pending) return done(null, payload)
    const end = reply.statusCode < 400 ? uow.commit() : uow.rollback()
    end.then(
      () => done(null, payload),
      (err: Error) => done(err),
    )
  })
  // Backstops: whatever path the request took, the transaction ends and the writer is released.
  app.addHook('onResponse', (request, _reply, done) => {
    if (!request.uow?.pending) return done()
    request.log.warn('unit of work still open after the response: rolled back')
    request.uow.rollback().then(() => done())
  })
  app.addHook('onRequestAbort', (request, done) => {
    if (!request.uow) return done()
    request.uow.abort().then(() => done())
  })
}

export const unitOfWork = fp(unitOfWorkPlugin, {
  name: 'marquee-unit-of-work',
  dependencies: ['marquee-request-context', 'marquee-users'],
})

export default fp(usersPlugin, { name: 'marquee-users', dependencies: ['marquee-request-context'] })
