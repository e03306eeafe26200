import type { FastifyRequest } from 'fastify'
import { parseId } from '../datasets/catalogue.js'
import type { TitleDetail } from '../db/queries/titles.js'
import { chunks, mapLimit } from '../lib/limit.js'
import type { TitleFacts, TitleLookup } from './title-lookup.js'

/** Ids per findTitles task, and tasks in flight: a 10,000-title import takes 50 tasks, two at a time. */
const CHUNK = 200
const CONCURRENCY = 2

function factsOf(t: TitleDetail): TitleFacts {
  return {
    id: t.id,
    type: t.type,
    primaryTitle: t.primaryTitle,
    originalTitle: t.originalTitle,
    isAdult: t.isAdult,
    startYear: t.startYear,
    endYear: t.endYear,
    runtimeMinutes: t.runtimeMinutes,
    genres: t.genres,
    rating: t.rating,
    votes: t.votes,
  }
}

/**
 * Title lookups through the request's dataset handle (src/plugins/dataset.ts): the queries
 * `findTitles` and `importPlan` on the query workers, against the generation the request pinned,
 * under its deadline.
 * No ids, no dataset access: an empty list answers even while no dataset is loaded.
 */
export function datasetTitleLookup(request: FastifyRequest): TitleLookup {
  const facts = async (ids: readonly number[]): Promise<Map<number, TitleFacts>> => {
    const unique = [...new Set(ids)]
    const out = new Map<number, TitleFacts>()
    if (unique.length === 0) return out
    const h = await request.dataset()
    h.require('title.basics')
    const parts = await mapLimit(chunks(unique, CHUNK), CONCURRENCY, (part) => h.query('findTitles', part))
    for (const t of parts.flat()) if (t) out.set(parseId(t.id), factsOf(t))
    return out
  }
  return {
    facts,
    importPlan: async (body, schema) => {
      const h = await request.dataset()
      h.require('title.basics')
      return h.query('importPlan', body, schema)
    },
  }
}
