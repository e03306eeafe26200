import { AsyncLocalStorage } from 'node:async_hooks'
import type { User } from '../users/user.js'

/** What every piece of code can know about the request it runs for, without parameter threading. */
export interface RequestStore {
  readonly requestId: string
  user: User | null
  readonly ip: string
  readonly userAgent: string | null
}

const storage = new AsyncLocalStorage<RequestStore>()

/** The current request's store; throws when called outside a request (a bug, not a user error). */
export function requestContext(): RequestStore {
  const store = storage.getStore()
  if (!store) throw new Error('requestContext() was called outside of a request')
  return store
}

/** Runs `fn` (and everything it awaits or schedules) inside `store`. */
export function runInContext<T>(store: RequestStore, fn: () => T): T {
  return storage.run(store, fn)
}
