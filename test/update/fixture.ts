/**
 * Two versions of a small generated dataset, as IMDb would publish them on consecutive days: A, and
 * B = A with `rate` of the rows of every file edited, deleted or inserted. Each is ingested into a
 * database of its own.
 */

import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { generateSample } from '../../src/datasets/sample/generator.js'
import Database from '../../src/db/sqlite/driver.js'
import { ingest } from '../../src/ingest/index.js'
import { mutateDataset } from './mutate.js'

export interface Version {
  data: string
  db: string
  generation: string
}

export async function twoVersions(
  root: string,
  opts: { titles?: number; rate?: number; seed?: number } = {},
): Promise<{ a: Version; b: Version }> {
  const a = join(root, 'a')
  const b = join(root, 'b')
  await generateSample({ titles: opts.titles ?? 2000, out: a, seed: opts.seed ?? 1, workers: 0 })
  await mutateDataset(a, b, { rate: opts.rate ?? 0.01, seed: opts.seed ?? 1, level: 1 })
  await mkdir(join(root, 'dbs'), { recursive: true })
  const [sa, sb] = [
    await ingest({ dataDir: a, dbPath: join(root, 'dbs', 'a.db') }),
    await ingest({ dataDir: b, dbPath: join(root, 'dbs', 'b.db') }),
  ]
  return {
    a: { data: a, db: join(root, 'dbs', 'a.db'), generation: sa.generation },
    b: { data: b, db: join(root, 'dbs', 'b.db'), generation: sb.generation },
  }
}

/** Titles present in both databases whose primary title differs: a response tells which one it came from. */
export function titlesThatDiffer(
  a: string,
  b: string,
  limit = 20,
): { tconst: string; a: string; b: string }[] {
  const db = new Database(a, { readonly: true })
  try {
    db.prepare('ATTACH ? AS other').run(b)
    const rows = db
      .prepare(
        `SELECT x.id, x.primary_title AS a, y.primary_title AS b FROM main.titles x
         JOIN other.titles y ON y.id = x.id WHERE x.primary_title <> y.primary_title ORDER BY x.id LIMIT ?`,
      )
      .all(limit) as { id: number; a: string; b: string }[]
    return rows.map((r) => ({ tconst: `tt${String(r.id).padStart(7, '0')}`, a: r.a, b: r.b }))
  } finally {
    db.close()
  }
}
