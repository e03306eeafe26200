import { Kysely } from 'kysely'
import { formatId } from '../../datasets/catalogue.js'
import type { DatasetDB } from '../../db/types.js'
import { noDataset } from '../../errors.js'
import { LOOKUP_CHUNK, type TitleFacts, type TitleLookup } from '../title-lookup.js'
import { SqliteWorkerDialect, SqliteWorkerError } from './worker-dialect.js'

const COLUMNS = [
  'id',
  'title_type',
  'primary_title',
  'original_title',
  'is_adult',
  'start_year',
  'end_year',
  'runtime_minutes',
  'genres',
  'average_rating',
  'num_votes',
] as const

function isMissingDataset(err: unknown): boolean {
  if (!(err instanceof SqliteWorkerError)) return false
  return err.code === 'ENOENT' || err.code === 'SQLITE_CANTOPEN' || /no such table: titles/.test(err.message)
}

/**
 * Title lookups against the dataset file, read-only, on a worker thread of their own (started on
 * first use). The worker follows the file: when an ingest swaps a new database in by rename, the
 * next lookup reopens it. Primary-key lookups, LOOKUP_CHUNK ids per statement.
 */
export class SqliteTitleLookup implements TitleLookup {
  readonly #db: Kysely<DatasetDB>

  constructor(datasetPath: string) {
    this.#db = new Kysely<DatasetDB>({
      dialect: new SqliteWorkerDialect({
        file: datasetPath,
        mode: 'read',
        readonly: true,
        followReplace: true,
      }),
    })
  }

  async #chunked<R>(ids: readonly number[], run: (chunk: number[]) => Promise<R[]>): Promise<R[]> {
    const unique = [...new Set(ids)]
    const out: R[] = []
    try {
      for (let i = 0; i < unique.length; i += LOOKUP_CHUNK)
        out.push(...(await run(unique.slice(i, i + LOOKUP_CHUNK))))
    } catch (err) {
      if (isMissingDataset(err)) throw noDataset()
      throw err
    }
    return out
  }

  async existing(ids: readonly number[]): Promise<Set<number>> {
    const rows = await this.#chunked(ids, (chunk) =>
      this.#db.selectFrom('titles').select('id').where('id', 'in', chunk).execute(),
    )
    return new Set(rows.map((r) => r.id))
  }

  async facts(ids: readonly number[]): Promise<Map<number, TitleFacts>> {
    const rows = await this.#chunked(ids, (chunk) =>
      this.#db.selectFrom('titles').select(COLUMNS).where('id', 'in', chunk).execute(),
    )
    return new Map(
      rows.map((r) => [
        r.id,
        {
          id: formatId('tt', r.id),
          type: r.title_type,
          primaryTitle: r.primary_title,
          originalTitle: r.original_title,
          isAdult: r.is_adult !== 0,
          startYear: r.start_year,
          endYear: r.end_year,
          runtimeMinutes: r.runtime_minutes,
          genres: r.genres ? r.genres.split(',') : [],
          rating: r.average_rating,
          votes: r.num_votes,
        },
      ]),
    )
  }

  close(): Promise<void> {
    return this.#db.destroy()
  }
}
