import { changeGenerations, listChanges } from './changes.js'
import { importPlan } from './import-plan.js'
import { datasetMeta } from './meta.js'
import { findName, listNames, nameCredits } from './names.js'
import { ratingsOf, seriesRatings } from './ratings.js'
import { search } from './search.js'
import type { DB } from './sql.js'
import { sqlConsole } from './sql-console.js'
import { countTitles, listTitles, titleFacets } from './title-list.js'
import {
  findTitle,
  findTitles,
  titleAkas,
  titleCredits,
  titleEpisodes,
  titleEpisodesEmbed,
} from './titles.js'

/**
 * Every query the API runs, by name: plain functions taking the Kysely handle first. The worker pool
 * dispatches `{ dbPath, query, args }` tasks to them (src/pool/query.worker.ts); the inline executor
 * calls them on the main thread. Arguments and results are plain, structured-clonable data.
 */
export const queries = {
  datasetMeta,
  findTitle,
  findTitles,
  titleCredits,
  titleAkas,
  titleEpisodes,
  titleEpisodesEmbed,
  listTitles,
  countTitles,
  titleFacets,
  findName,
  listNames,
  nameCredits,
  search,
  sqlConsole,
  importPlan,
  ratingsOf,
  seriesRatings,
  changeGenerations,
  listChanges,
}

export type Queries = typeof queries
export type QueryName = keyof Queries
export type QueryArgs<N extends QueryName> = Queries[N] extends (db: DB, ...args: infer A) => unknown
  ? A
  : never
export type QueryResult<N extends QueryName> = Awaited<ReturnType<Queries[N]>>

/** Any query function, for registries that also hold queries added at run time (tests). */
// biome-ignore lint/suspicious/noExplicitAny: a registry of heterogeneous functions
export type QueryFn = (db: DB, ...args: any[]) => Promise<unknown>

/** A module that adds queries (tests register slow queries this way): `export const queries = {...}`. */
export interface QueryModule {
  queries: Record<string, QueryFn>
}

/** The built-in queries plus those of `extraModules` (URLs or paths of ES modules). */
export async function loadRegistry(extraModules: readonly string[] = []): Promise<Map<string, QueryFn>> {
  const registry = new Map<string, QueryFn>(Object.entries(queries) as [string, QueryFn][])
  for (const url of extraModules) {
    const mod = (await import(url)) as QueryModule
    for (const [name, fn] of Object.entries(mod.queries)) registry.set(name, fn)
  }
  return registry
}
