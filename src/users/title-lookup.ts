import type { ImportPlan } from '../db/queries/import-plan.js'
import type { TitleSummary } from '../db/queries/titles.js'

/**
 * What the personal-data routes need from the dataset: the facts shown next to a watchlist or
 * ratings entry, and an import checked against the titles. Behind an interface so the routes do not
 * depend on where titles come from: the dataset service's per-request handle
 * (dataset-title-lookup.ts), or a substitute in tests.
 */

/** A title as personal lists show it: the dataset's title summary. */
export type TitleFacts = TitleSummary

export interface TitleLookup {
  /** Facts of the ids the dataset has (unknown ids are simply absent). */
  facts(ids: readonly number[]): Promise<Map<number, TitleFacts>>
  /** A /me/import body (JSON bytes) parsed, validated against `schema` and checked against the titles. */
  importPlan(body: Uint8Array, schema: object): Promise<ImportPlan>
}
