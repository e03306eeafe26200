/**
 * Columnar batches of each IMDb file -> COPY text rows of the PostgreSQL tables, with the same
 * transformations and checks as the SQLite writer (src/ingest/sqlite-writer.ts): integer ids,
 * title.ratings merged into titles and summed into names.popularity, genres and professions
 * normalised, crew lists exploded, rows missing a required value skipped (or fatal with strict),
 * dangling references counted. Each file also writes its text-search documents (see tsvector.ts).
 */

import type { DatasetName } from '../../datasets/catalogue.js'
import { type ColumnarBatch, DatasetError, type Layout, layoutOf } from '../../datasets/parse.js'
import type { IdSet, RefChecker } from '../refs.js'
import { CopyBuffer } from './copy-buffer.js'
import { DocWriter } from './tsvector.js'

/** title.ratings in memory, sorted by id: merged into titles, summed into names.popularity. */
export class Ratings {
  ids = new Float64Array(1 << 16)
  avg = new Float64Array(1 << 16)
  votes = new Float64Array(1 << 16)
  n = 0
  private sorted = true

  add(id: number, avg: number, votes: number): void {
    if (this.n === this.ids.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2)
        b.set(a)
        return b
      }
      this.ids = grow(this.ids)
      this.avg = grow(this.avg)
      this.votes = grow(this.votes)
    }
    if (this.n > 0 && id <= this.ids[this.n - 1]) this.sorted = false
    this.ids[this.n] = id
    this.avg[this.n] = avg
    this.votes[this.n] = votes
    this.n++
  }

  /** Sorts by id keeping the first of equal ids; returns how many were dropped. */
  seal(): number {
    if (this.sorted) return 0
    const order = Array.from({ length: this.n }, (_, i) => i).sort(
      (a, b) => this.ids[a] - this.ids[b] || a - b,
    )
    const ids = new Float64Array(this.n)
    const avg = new Float64Array(this.n)
    const votes = new Float64Array(this.n)
    let k = 0
    for (const i of order) {
      if (k > 0 && ids[k - 1] === this.ids[i]) continue
      ids[k] = this.ids[i]
      avg[k] = this.avg[i]
      votes[k] = this.votes[i]
      k++
    }
    const dropped = this.n - k
    this.ids = ids
    this.avg = avg
    this.votes = votes
    this.n = k
    this.sorted = true
    return dropped
  }

  indexOf(id: number): number {
    let lo = 0
    let hi = this.n - 1
    const ids = this.ids
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const v = ids[mid]
      if (v < id) lo = mid + 1
      else if (v > id) hi = mid - 1
      else return mid
    }
    return -1
  }
}

/** What the encoders share: ratings, id sets for dangling references, strictness, bad-row reports. */
export interface EncodeContext {
  readonly ratings: Ratings
  readonly refs: RefChecker
  readonly titleIds: IdSet
  readonly nameIds: IdSet
  readonly loaded: ReadonlySet<DatasetName>
  readonly strict: boolean
  /** Ratings that found their title. */
  ratingsMatched: number
  onBadRow(dataset: DatasetName, file: string, line: number, reason: string): void
}

/** One COPY target of a file: a table and its columns in the order the encoder writes them. */
export interface Output {
  readonly table: string
  readonly columns: readonly string[]
}

/** Turns the batches of one file into rows of one or more tables. */
export abstract class Encoder {
  abstract readonly dataset: DatasetName
  abstract readonly outputs: readonly Output[]
  /** Rows that passed the checks (for crew: lines). */
  sent = 0
  /** Rows skipped by the checks here (the parser counts its own). */
  bad = 0
  readonly bufs: CopyBuffer[] = []

  constructor(
    protected readonly ctx: EncodeContext,
    readonly file: string,
  ) {}

  protected init(): void {
    for (let i = 0; i < this.outputs.length; i++) this.bufs.push(new CopyBuffer())
  }

  abstract batch(b: ColumnarBatch): void
  /** Completes rows still open at the end of the file (akas documents). */
  end(): void {}

  protected badRow(b: ColumnarBatch, r: number, reason: string): void {
    const line = b.lines[r]
    if (this.ctx.strict) {
      throw new DatasetError(
        'DATASET_BAD_LINE',
        this.file,
        `${this.file}:${line}: ${reason}; fix or remove the line, or run without --strict to skip it`,
        { line },
      )
    }
    this.bad++
    this.ctx.onBadRow(this.dataset, this.file, line, reason)
  }
}

const NUL_REASON = 'a text field holds a NUL character, which PostgreSQL cannot store'

/**
 * The batch with its text as UTF-8 bytes: raw batches are already; a batch the parser had to
 * decode (invalid UTF-8, replaced by U+FFFD) is encoded back, field by field.
 */
export function rawText(b: ColumnarBatch, layout: Layout): { u: Uint8Array; up: Int32Array } {
  if (b.utf8 && b.utf8Pos) return { u: b.utf8, up: b.utf8Pos }
  const n = b.rows * layout.textCols
  const up = new Int32Array(2 * n)
  const parts: Buffer[] = []
  let at = 0
  for (let k = 0; k < n; k++) {
    const s = b.textPos[2 * k]
    if (s < 0) {
      up[2 * k] = -1
      up[2 * k + 1] = -1
      continue
    }
    const bytes = Buffer.from(b.text.slice(s, b.textPos[2 * k + 1]), 'utf8')
    parts.push(bytes)
    up[2 * k] = at
    at += bytes.length
    up[2 * k + 1] = at
  }
  return { u: Buffer.concat(parts), up }
}

function slotsOf(layout: Layout): Record<string, { num: number; text: number; ids: number }> {
  return Object.fromEntries(layout.slots.map((s) => [s.column.name, s]))
}

/** Writes text field `p` (an index into up) or \N; false on a NUL byte. */
function field(out: CopyBuffer, u: Uint8Array, up: Int32Array, p: number): boolean {
  const s = up[p]
  if (s < 0) {
    out.nul()
    return true
  }
  return out.text(u, s, up[p + 1])
}

const COMMA = 44

/**
 * Writes `(value, id)` rows for each distinct comma-separated value of bytes `u[s..e)`
 * (title_genres, name_professions); false on a NUL byte (nothing written then).
 */
function listRows(out: CopyBuffer, u: Uint8Array, s: number, e: number, id: number): boolean {
  const mark = out.mark()
  let from = s
  const seen: [number, number][] = []
  for (let i = s; i <= e; i++) {
    if (i < e && u[i] !== COMMA) continue
    const a = from
    from = i + 1
    if (i === a) continue
    let dup = false
    for (const [x, y] of seen) {
      if (y - x !== i - a) continue
      let same = true
      for (let k = 0; k < y - x; k++) {
        if (u[x + k] !== u[a + k]) {
          same = false
          break
        }
      }
      if (same) {
        dup = true
        break
      }
    }
    if (dup) continue
    seen.push([a, i])
    if (!out.text(u, a, i)) {
      out.reset(mark)
      return false
    }
    out.tab()
    out.int(id)
    out.eol()
  }
  return true
}

export class TitlesEncoder extends Encoder {
  readonly dataset = 'title.basics' as const
  readonly outputs: readonly Output[] = [
    {
      table: 'titles',
      columns: [
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
      ],
    },
    { table: 'titles_doc', columns: ['id', 'doc'] },
    { table: 'title_genres', columns: ['genre', 'title_id'] },
  ]
  private readonly doc: DocWriter

  constructor(ctx: EncodeContext, file: string) {
    super(ctx, file)
    this.init()
    this.doc = new DocWriter(this.bufs[1])
  }

  batch(b: ColumnarBatch): void {
    const l = layoutOf(this.dataset)
    const s = slotsOf(l)
    const { u, up } = rawText(b, l)
    const nums = b.nums
    const [titles, docs, genres] = this.bufs
    const ctx = this.ctx
    const haveRatings = ctx.loaded.has('title.ratings')
    const ratings = ctx.ratings
    for (let r = 0; r < b.rows; r++) {
      const nb = r * l.numCols
      const tb = 2 * r * l.textCols
      const id = nums[nb + s.tconst.num]
      const pType = tb + 2 * s.titleType.text
      const pPrimary = tb + 2 * s.primaryTitle.text
      if (up[pType] < 0 || up[pPrimary] < 0) {
        this.badRow(b, r, up[pType] < 0 ? 'titleType is \\N' : 'primaryTitle is \\N')
        continue
      }
      const pOriginal = tb + 2 * s.originalTitle.text
      const pGenres = tb + 2 * s.genres.text
      const mark = titles.mark()
      titles.int(id)
      titles.tab()
      let ok = field(titles, u, up, pType)
      titles.tab()
      ok = field(titles, u, up, pPrimary) && ok
      titles.tab()
      ok = field(titles, u, up, pOriginal) && ok
      titles.tab()
      const adult = nums[nb + s.isAdult.num]
      titles.int(Number.isNaN(adult) ? 0 : adult)
      titles.tab()
      titles.num(nums[nb + s.startYear.num])
      titles.tab()
      titles.num(nums[nb + s.endYear.num])
      titles.tab()
      titles.num(nums[nb + s.runtimeMinutes.num])
      titles.tab()
      ok = field(titles, u, up, pGenres) && ok
      if (ok && up[pGenres] >= 0) ok = listRows(genres, u, up[pGenres], up[pGenres + 1], id)
      if (!ok) {
        titles.reset(mark)
        this.badRow(b, r, NUL_REASON)
        continue
      }
      let avg = Number.NaN
      let votes = 0
      if (haveRatings) {
        const i = ratings.indexOf(id)
        if (i >= 0) {
          avg = ratings.avg[i]
          votes = ratings.votes[i]
          ctx.ratingsMatched++
        }
      }
      titles.tab()
      titles.num(avg)
      titles.tab()
      titles.int(votes)
      titles.eol()

      docs.int(id)
      docs.tab()
      this.doc.begin()
      this.doc.addBytes(u, up[pPrimary], up[pPrimary + 1], 'A')
      if (up[pOriginal] >= 0) this.doc.addBytes(u, up[pOriginal], up[pOriginal + 1], 'B')
      docs.eol()

      this.sent++
      ctx.titleIds.add(id)
    }
  }
}

export class NamesEncoder extends Encoder {
  readonly dataset = 'name.basics' as const
  readonly outputs: readonly Output[] = [
    {
      table: 'names',
      columns: [
        'id',
        'primary_name',
        'birth_year',
        'death_year',
        'primary_profession',
        'known_for_titles',
        'popularity',
      ],
    },
    { table: 'names_fts', columns: ['id', 'doc'] },
    { table: 'name_professions', columns: ['profession', 'name_id'] },
  ]
  private readonly doc: DocWriter

  constructor(ctx: EncodeContext, file: string) {
    super(ctx, file)
    this.init()
    this.doc = new DocWriter(this.bufs[1])
  }

  batch(b: ColumnarBatch): void {
    const l = layoutOf(this.dataset)
    const s = slotsOf(l)
    const { u, up } = rawText(b, l)
    const { nums, ids, idPos } = b
    const [names, docs, professions] = this.bufs
    const ctx = this.ctx
    const ratings = ctx.ratings
    for (let r = 0; r < b.rows; r++) {
      const nb = r * l.numCols
      const tb = 2 * r * l.textCols
      const id = nums[nb + s.nconst.num]
      const pName = tb + 2 * s.primaryName.text
      if (up[pName] < 0) {
        this.badRow(b, r, 'primaryName is \\N')
        continue
      }
      const pProf = tb + 2 * s.primaryProfession.text
      const pKnown = tb + 2 * s.knownForTitles.text
      const mark = names.mark()
      const profMark = professions.mark()
      names.int(id)
      names.tab()
      let ok = field(names, u, up, pName)
      names.tab()
      names.num(nums[nb + s.birthYear.num])
      names.tab()
      names.num(nums[nb + s.deathYear.num])
      names.tab()
      ok = field(names, u, up, pProf) && ok
      names.tab()
      ok = field(names, u, up, pKnown) && ok
      if (ok && up[pProf] >= 0) ok = listRows(professions, u, up[pProf], up[pProf + 1], id)
      if (!ok) {
        names.reset(mark)
        professions.reset(profMark)
        this.badRow(b, r, NUL_REASON)
        continue
      }
      let popularity = 0
      const q = 2 * (r * l.idListCols + s.knownForTitles.ids)
      for (let i = idPos[q]; i < idPos[q + 1]; i++) {
        const t = ids[i]
        const j = ratings.indexOf(t)
        if (j >= 0) popularity += ratings.votes[j]
        ctx.refs.check('name.basics', 'title', t)
      }
      names.tab()
      names.int(Math.min(popularity, 2 ** 31 - 1))
      names.eol()

      docs.int(id)
      docs.tab()
      this.doc.begin()
      this.doc.addBytes(u, up[pName], up[pName + 1], 'A')
      docs.eol()

      this.sent++
      ctx.nameIds.add(id)
    }
  }
}

export class AkasEncoder extends Encoder {
  readonly dataset = 'title.akas' as const
  readonly outputs: readonly Output[] = [
    {
      table: 'akas',
      columns: [
        'title_id',
        'ordering',
        'title',
        'region',
        'language',
        'types',
        'attributes',
        'is_original_title',
      ],
    },
    { table: 'akas_doc', columns: ['title_id', 'doc'] },
  ]
  private readonly doc: DocWriter
  /** The title whose alternate-title document is open, and its distinct titles so far. */
  private group = Number.NaN
  private titles: Uint8Array[] = []

  constructor(ctx: EncodeContext, file: string) {
    super(ctx, file)
    this.init()
    this.doc = new DocWriter(this.bufs[1])
  }

  batch(b: ColumnarBatch): void {
    const l = layoutOf(this.dataset)
    const s = slotsOf(l)
    const { u, up } = rawText(b, l)
    const nums = b.nums
    const [akas] = this.bufs
    const ctx = this.ctx
    for (let r = 0; r < b.rows; r++) {
      const nb = r * l.numCols
      const tb = 2 * r * l.textCols
      const pTitle = tb + 2 * s.title.text
      if (up[pTitle] < 0) {
        this.badRow(b, r, 'title is \\N')
        continue
      }
      const titleId = nums[nb + s.titleId.num]
      const mark = akas.mark()
      akas.int(titleId)
      akas.tab()
      akas.int(nums[nb + s.ordering.num])
      akas.tab()
      let ok = field(akas, u, up, pTitle)
      for (const name of ['region', 'language', 'types', 'attributes']) {
        akas.tab()
        ok = field(akas, u, up, tb + 2 * s[name].text) && ok
      }
      if (!ok) {
        akas.reset(mark)
        this.badRow(b, r, NUL_REASON)
        continue
      }
      akas.tab()
      akas.num(nums[nb + s.isOriginalTitle.num])
      akas.eol()
      this.sent++
      ctx.refs.check('title.akas', 'title', titleId)
      this.addToDoc(titleId, u.subarray(up[pTitle], up[pTitle + 1]))
    }
  }

  /** The distinct alternate titles of a title, space-joined as in SQLite's titles_fts.akas column. */
  private addToDoc(titleId: number, title: Uint8Array): void {
    const docs = this.bufs[1]
    if (titleId !== this.group) {
      this.closeDoc()
      this.group = titleId
      this.titles = []
      docs.int(titleId)
      docs.tab()
      this.doc.begin()
    }
    for (const t of this.titles) if (Buffer.compare(t, title) === 0) return
    this.titles.push(title)
    this.doc.addBytes(title, 0, title.length, 'C')
  }

  private closeDoc(): void {
    if (Number.isNaN(this.group)) return
    this.bufs[1].eol()
    this.group = Number.NaN
    this.titles = []
  }

  override end(): void {
    this.closeDoc()
  }
}

export class CrewEncoder extends Encoder {
  readonly dataset = 'title.crew' as const
  readonly outputs: readonly Output[] = [
    { table: 'crew', columns: ['title_id', 'role', 'ordering', 'name_id'] },
  ]

  constructor(ctx: EncodeContext, file: string) {
    super(ctx, file)
    this.init()
  }

  batch(b: ColumnarBatch): void {
    const l = layoutOf(this.dataset)
    const s = slotsOf(l)
    const { nums, ids, idPos } = b
    const [crew] = this.bufs
    const refs = this.ctx.refs
    this.sent += b.rows
    for (let r = 0; r < b.rows; r++) {
      const id = nums[r * l.numCols + s.tconst.num]
      refs.check('title.crew', 'title', id)
      for (const [role, slot] of [
        ['director', s.directors.ids],
        ['writer', s.writers.ids],
      ] as const) {
        const q = 2 * (r * l.idListCols + slot)
        const from = idPos[q]
        for (let i = from; i < idPos[q + 1]; i++) {
          const nameId = ids[i]
          refs.check('title.crew', 'name', nameId)
          crew.int(id)
          crew.tab()
          crew.ascii(role)
          crew.tab()
          crew.int(i - from + 1)
          crew.tab()
          crew.int(nameId)
          crew.eol()
        }
      }
    }
  }
}

export class EpisodesEncoder extends Encoder {
  readonly dataset = 'title.episode' as const
  readonly outputs: readonly Output[] = [
    { table: 'episodes', columns: ['id', 'parent_id', 'season_number', 'episode_number'] },
  ]

  constructor(ctx: EncodeContext, file: string) {
    super(ctx, file)
    this.init()
  }

  batch(b: ColumnarBatch): void {
    const l = layoutOf(this.dataset)
    const s = slotsOf(l)
    const nums = b.nums
    const [episodes] = this.bufs
    const refs = this.ctx.refs
    for (let r = 0; r < b.rows; r++) {
      const nb = r * l.numCols
      const id = nums[nb + s.tconst.num]
      const parent = nums[nb + s.parentTconst.num]
      if (Number.isNaN(parent)) {
        this.badRow(b, r, 'parentTconst is \\N')
        continue
      }
      this.sent++
      refs.check('title.episode', 'title', id)
      refs.check('title.episode', 'title', parent)
      episodes.int(id)
      episodes.tab()
      episodes.int(parent)
      episodes.tab()
      episodes.num(nums[nb + s.seasonNumber.num])
      episodes.tab()
      episodes.num(nums[nb + s.episodeNumber.num])
      episodes.eol()
    }
  }
}

export class PrincipalsEncoder extends Encoder {
  readonly dataset = 'title.principals' as const
  readonly outputs: readonly Output[] = [
    { table: 'principals', columns: ['title_id', 'ordering', 'name_id', 'category', 'job', 'characters'] },
  ]

  constructor(ctx: EncodeContext, file: string) {
    super(ctx, file)
    this.init()
  }

  batch(b: ColumnarBatch): void {
    const l = layoutOf(this.dataset)
    const s = slotsOf(l)
    const { u, up } = rawText(b, l)
    const nums = b.nums
    const [principals] = this.bufs
    const refs = this.ctx.refs
    const cCategory = 2 * s.category.text
    const cJob = 2 * s.job.text
    const cCharacters = 2 * s.characters.text
    for (let r = 0; r < b.rows; r++) {
      const nb = r * l.numCols
      const tb = 2 * r * l.textCols
      const nameId = nums[nb + s.nconst.num]
      const pCategory = tb + cCategory
      if (Number.isNaN(nameId) || up[pCategory] < 0) {
        this.badRow(b, r, Number.isNaN(nameId) ? 'nconst is \\N' : 'category is \\N')
        continue
      }
      const titleId = nums[nb + s.tconst.num]
      const mark = principals.mark()
      principals.int(titleId)
      principals.tab()
      principals.int(nums[nb + s.ordering.num])
      principals.tab()
      principals.int(nameId)
      principals.tab()
      let ok = principals.text(u, up[pCategory], up[pCategory + 1])
      principals.tab()
      ok = field(principals, u, up, tb + cJob) && ok
      principals.tab()
      ok = field(principals, u, up, tb + cCharacters) && ok
      if (!ok) {
        principals.reset(mark)
        this.badRow(b, r, NUL_REASON)
        continue
      }
      principals.eol()
      this.sent++
      refs.check('title.principals', 'title', titleId)
      refs.check('title.principals', 'name', nameId)
    }
  }
}

/** title.ratings: kept in memory (no table of its own). */
export class RatingsEncoder extends Encoder {
  readonly dataset = 'title.ratings' as const
  readonly outputs: readonly Output[] = []

  batch(b: ColumnarBatch): void {
    const l = layoutOf(this.dataset)
    const s = slotsOf(l)
    for (let r = 0; r < b.rows; r++) {
      const base = r * l.numCols
      const votes = b.nums[base + s.numVotes.num]
      this.ctx.ratings.add(
        b.nums[base + s.tconst.num],
        b.nums[base + s.averageRating.num],
        Number.isNaN(votes) ? 0 : votes,
      )
    }
    this.sent += b.rows
  }
}

export function encoderFor(dataset: DatasetName, ctx: EncodeContext, file: string): Encoder {
  switch (dataset) {
    case 'title.basics':
      return new TitlesEncoder(ctx, file)
    case 'name.basics':
      return new NamesEncoder(ctx, file)
    case 'title.akas':
      return new AkasEncoder(ctx, file)
    case 'title.crew':
      return new CrewEncoder(ctx, file)
    case 'title.episode':
      return new EpisodesEncoder(ctx, file)
    case 'title.principals':
      return new PrincipalsEncoder(ctx, file)
    case 'title.ratings':
      return new RatingsEncoder(ctx, file)
  }
}
