import type { DatasetHandle } from '../../src/dataset/handle.js'

/**
 * Runs a query the typed registry does not know: one a test loaded with `extraQueryModules`. A
 * handle passes any name on to its executor; only `query`'s types are narrower, so this casts once.
 */
export function testQuery<T = unknown>(handle: DatasetHandle, name: string, ...args: unknown[]): Promise<T> {
  const query = handle.query as unknown as (
    this: DatasetHandle,
    name: string,
    ...args: unknown[]
  ) => Promise<T>
  return query.call(handle, name, ...args)
}
