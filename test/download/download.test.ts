import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, afterEach, beforeEach, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { ConfigError } from '../../src/config.js'
import { DATASET_NAMES, DATASETS, datasetSpec } from '../../src/datasets/catalogue.js'
import {
  DEFAULT_BASE_URL,
  DownloadLockedError,
  type DownloadOptions,
  type DownloadProgress,
  download,
  resolveBaseUrls,
} from '../../src/download/index.js'
import { until } from '../helpers/wait.js'
import { datasetBody, datasetFiles, served, startDatasetServer, type TestServer } from './fixtures.js'

const FILES = [...DATASETS.values()].map((s) => s.file)
const BASICS = datasetSpec('title.basics').file
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20 }

let dir: string
const servers: TestServer[] = []

async function server(...args: Parameters<typeof startDatasetServer>): Promise<TestServer> {
  const s = await startDatasetServer(...args)
  servers.push(s)
  return s
}

function run(baseUrls: string[], opts: Partial<DownloadOptions> = {}) {
  return download({ dir, baseUrls, retry: FAST_RETRY, ...opts })
}

const statusOf = (summary: Awaited<ReturnType<typeof download>>, file: string) =>
  summary.files.find((f) => f.file === file)?.status

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  )
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'marquee-download-'))
})

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
  await rm(dir, { recursive: true, force: true })
})

describe('download', () => {
  it('downloads all seven files, verified, with their sidecars', async () => {
    const s = await server(datasetFiles())
    const events: DownloadProgress[] = []
    const summary = await run([s.url], { onProgress: (e) => events.push(e) })
    assert.equal(summary.ok, true)
    assert.equal(summary.aborted, false)
    assert.deepEqual(
      summary.files.map((f) => [f.name, f.status]),
      DATASET_NAMES.map((n) => [n, 'downloaded']),
    )
    for (const file of FILES) {
      const entry = s.files.get(file)!
      assert.deepEqual(await readFile(path.join(dir, file)), entry.body, file)
      const meta = JSON.parse(await readFile(path.join(dir, `.${file}.meta.json`), 'utf8'))
      assert.equal(meta.etag, entry.etag)
      assert.equal(meta.lastModified, entry.lastModified)
      assert.equal(meta.size, entry.body.length)
    }
    const left = (await readdir(dir)).filter(
      (f) => f.endsWith('.part') || f.includes('.part.') || f.includes('lock'),
    )
    assert.deepEqual(left, [])
    assert.equal(
      summary.bytes,
      [...s.files.values()].reduce((n, e) => n + e.body.length, 0),
    )
    for (const type of ['start', 'response', 'data', 'verify', 'done']) {
      assert.ok(
        events.some((e) => e.type === type),
        `a ${type} event`,
      )
    }
  })

  it('sends the validators on the next run and skips every file on 304', async () => {
    const s = await server(datasetFiles())
    await run([s.url])
    const before = await stat(path.join(dir, BASICS))
    s.requests.length = 0
    const summary = await run([s.url])
    assert.equal(summary.ok, true)
    assert.deepEqual(
      summary.files.map((f) => f.status),
      FILES.map(() => 'unchanged'),
    )
    assert.equal(summary.bytes, 0)
    for (const r of s.requests) {
      assert.equal(r.headers['if-none-match'], s.files.get(r.file)!.etag)
      assert.equal(r.headers['if-modified-since'], s.files.get(r.file)!.lastModified)
      assert.equal(r.status, 304)
    }
    assert.equal((await stat(path.join(dir, BASICS))).mtimeMs, before.mtimeMs)
  })

  it('downloads a file again when it changed on the server', async () => {
    const s = await server(datasetFiles())
    await run([s.url], { only: ['title.basics'] })
    const next = served(datasetBody(datasetSpec('title.basics'), 50), new Date('2026-02-01T00:00:00Z'))
    s.files.set(BASICS, next)
    const summary = await run([s.url], { only: ['title.basics'] })
    assert.equal(summary.files[0].status, 'downloaded')
    assert.deepEqual(await readFile(path.join(dir, BASICS)), next.body)
    const meta = JSON.parse(await readFile(path.join(dir, `.${BASICS}.meta.json`), 'utf8'))
    assert.equal(meta.etag, next.etag)
  })

  it('resumes with Range and If-Range after the connection drops mid-file', async () => {
    const part = path.join(dir, `${BASICS}.part`)
    const written = async () => ((await stat(part).catch(() => null))?.size ?? 0) > 0
    const s = await server(datasetFiles(), (_req, _res, { file, entry, n }) =>
      file === BASICS && n === 1
        ? {
            drop: {
              afterBytes: Math.floor(entry!.body.length / 2),
              when: until(written, 'the client to write the first bytes'),
            },
          }
        : undefined,
    )
    const summary = await run([s.url], { only: ['title.basics'] })
    const result = summary.files[0]
    assert.equal(result.status, 'downloaded', result.error)
    assert.equal(result.resumed, true)
    assert.equal(result.attempts, 2)
    const entry = s.files.get(BASICS)!
    assert.deepEqual(await readFile(path.join(dir, BASICS)), entry.body)
    const [first, second] = s.requests
    assert.equal(first.closedEarly, true)
    assert.equal(first.headers.range, undefined)
    const start = Number(/^bytes=(\d+)-$/.exec(second.headers.range ?? '')?.[1])
    assert.ok(start > 0 && start <= entry.body.length / 2, `resumed at ${second.headers.range}`)
    assert.equal(second.headers['if-range'], entry.etag)
    assert.equal(second.status, 206)
    // only the missing bytes travelled the second time
    assert.equal(result.bytes, entry.body.length)
  })

  it('resumes a .part left by an interrupted run, and restarts one whose validator changed', async () => {
    const s = await server(datasetFiles())
    const basics = s.files.get(BASICS)!
    const akas = s.files.get('title.akas.tsv.gz')!
    const half = Math.floor(basics.body.length / 2)
    await writeFile(path.join(dir, `${BASICS}.part`), basics.body.subarray(0, half))
    await writeFile(
      path.join(dir, `.${BASICS}.part.json`),
      JSON.stringify({
        etag: basics.etag,
        lastModified: basics.lastModified,
        total: basics.body.length,
        url: '',
      }),
    )
    // a part of an older version of title.akas: its ETag no longer matches, so If-Range yields a 200
    await writeFile(path.join(dir, 'title.akas.tsv.gz.part'), Buffer.from('stale bytes of another version'))
    await writeFile(
      path.join(dir, '.title.akas.tsv.gz.part.json'),
      JSON.stringify({ etag: '"old"', lastModified: null, total: 999, url: '' }),
    )
    const summary = await run([s.url], { only: ['title.basics', 'title.akas'] })
    assert.equal(summary.ok, true)
    assert.deepEqual(await readFile(path.join(dir, BASICS)), basics.body)
    assert.deepEqual(await readFile(path.join(dir, 'title.akas.tsv.gz')), akas.body)
    const b = s.requests.find((r) => r.file === BASICS)!
    assert.equal(b.headers.range, `bytes=${half}-`)
    assert.equal(b.status, 206)
    assert.equal(summary.files[0].bytes, basics.body.length - half)
    const a = s.requests.find((r) => r.file === 'title.akas.tsv.gz')!
    assert.equal(a.headers['if-range'], '"old"')
    assert.equal(a.status, 200)
  })

  it('restarts cleanly on 416, and installs a complete .part without downloading it again', async () => {
    const s = await server(datasetFiles())
    const basics = s.files.get(BASICS)!
    const crew = s.files.get('title.crew.tsv.gz')!
    const partMeta = (e: typeof basics) =>
      JSON.stringify({ etag: e.etag, lastModified: e.lastModified, total: null, url: '' })
    // longer than the file: 416 -> discard and fetch from zero
    await writeFile(path.join(dir, `${BASICS}.part`), Buffer.concat([basics.body, Buffer.from('junk')]))
    await writeFile(path.join(dir, `.${BASICS}.part.json`), partMeta(basics))
    // complete (a run killed while verifying): 416 with the same total -> verified and installed as is
    await writeFile(path.join(dir, 'title.crew.tsv.gz.part'), crew.body)
    await writeFile(path.join(dir, '.title.crew.tsv.gz.part.json'), partMeta(crew))
    const summary = await run([s.url], { only: ['title.basics', 'title.crew'] })
    assert.equal(summary.ok, true, JSON.stringify(summary.files))
    assert.deepEqual(await readFile(path.join(dir, BASICS)), basics.body)
    assert.deepEqual(await readFile(path.join(dir, 'title.crew.tsv.gz')), crew.body)
    assert.deepEqual(
      s.requests.filter((r) => r.file === BASICS).map((r) => r.status),
      [416, 200],
    )
    assert.deepEqual(
      s.requests.filter((r) => r.file === 'title.crew.tsv.gz').map((r) => r.status),
      [416],
    )
    assert.equal(summary.files.find((f) => f.name === 'title.crew')!.bytes, 0)
  })

  it('retries a 500 and then succeeds', async () => {
    const s = await server(datasetFiles(), (_req, res, { file, n }) => {
      if (file !== BASICS || n > 1) return undefined
      res.writeHead(500).end('boom')
      return 'handled'
    })
    const retries: DownloadProgress[] = []
    const summary = await run([s.url], {
      only: ['title.basics'],
      onProgress: (e) => e.type === 'retry' && retries.push(e),
    })
    assert.equal(summary.files[0].status, 'downloaded')
    assert.equal(summary.files[0].attempts, 2)
    assert.equal(retries.length, 1)
    assert.deepEqual(await readFile(path.join(dir, BASICS)), s.files.get(BASICS)!.body)
  })

  it('reports a permanent 500 as failed after its retries and keeps the previous file', async () => {
    const s = await server(datasetFiles())
    await run([s.url], { only: ['title.basics', 'title.crew'] })
    const good = await readFile(path.join(dir, BASICS))
    const goodMeta = await readFile(path.join(dir, `.${BASICS}.meta.json`), 'utf8')
    s.files.set(
      BASICS,
      served(datasetBody(datasetSpec('title.basics'), 10), new Date('2026-03-01T00:00:00Z')),
    )
    const failing = await server(s.files, (_req, res, { file }) => {
      if (file !== BASICS) return undefined
      res.writeHead(500, 'Internal Server Error').end()
      return 'handled'
    })
    const summary = await run([failing.url], {
      only: ['title.basics', 'title.crew'],
      retry: { ...FAST_RETRY, attempts: 3 },
    })
    assert.equal(summary.ok, false)
    const result = summary.files[0]
    assert.equal(result.status, 'failed')
    assert.equal(result.attempts, 3)
    assert.equal(failing.requests.filter((r) => r.file === BASICS).length, 3)
    assert.match(
      result.error ?? '',
      new RegExp(`HTTP 500 Internal Server Error from ${failing.url}/${BASICS}`),
    )
    assert.match(result.hint ?? '', /again later/)
    assert.match(result.hint ?? '', /previous file is kept/)
    assert.equal(statusOf(summary, 'title.crew.tsv.gz'), 'unchanged')
    assert.deepEqual(await readFile(path.join(dir, BASICS)), good)
    assert.equal(await readFile(path.join(dir, `.${BASICS}.meta.json`), 'utf8'), goodMeta)
  })

  it('does not retry a 404', async () => {
    const files = datasetFiles()
    files.delete(BASICS)
    const s = await server(files)
    const summary = await run([s.url], { only: ['title.basics', 'title.ratings'] })
    assert.equal(summary.ok, false)
    assert.equal(statusOf(summary, BASICS), 'failed')
    assert.equal(statusOf(summary, 'title.ratings.tsv.gz'), 'downloaded')
    assert.equal(s.requests.filter((r) => r.file === BASICS).length, 1)
    assert.match(summary.files[0].hint ?? '', /--base-url/)
  })

  it('rejects a truncated gzip or a wrong header and keeps the previous file', async () => {
    const s = await server(datasetFiles())
    await run([s.url], { only: ['title.basics', 'title.episode'] })
    const goodBasics = await readFile(path.join(dir, BASICS))
    const goodEpisode = await readFile(path.join(dir, 'title.episode.tsv.gz'))
    const whole = datasetBody(datasetSpec('title.basics'), 400)
    s.files.set(BASICS, served(whole.subarray(0, whole.length - 20), new Date('2026-04-01T00:00:00Z')))
    s.files.set(
      'title.episode.tsv.gz',
      served(gzipSync('tconst\tparentTconst\tseasonNumber\n'), new Date('2026-04-01T00:00:00Z')),
    )
    const summary = await run([s.url], { only: ['title.basics', 'title.episode'] })
    assert.equal(summary.ok, false)
    const [basics, episode] = summary.files
    assert.equal(basics.status, 'failed')
    assert.match(basics.error ?? '', /not a complete gzip file/)
    assert.equal(episode.status, 'failed')
    assert.match(episode.error ?? '', /not the expected header/)
    assert.match(episode.hint ?? '', /corrupt or unexpected/)
    // a corrupt file is not worth a retry: one request each
    assert.equal(s.requests.filter((r) => r.file === BASICS).length, 2)
    assert.deepEqual(await readFile(path.join(dir, BASICS)), goodBasics)
    assert.deepEqual(await readFile(path.join(dir, 'title.episode.tsv.gz')), goodEpisode)
    assert.equal(await exists(path.join(dir, `${BASICS}.part`)), false)
  })

  it('races the mirrors: the fast one wins and the slow request is aborted', async () => {
    const files = datasetFiles()
    const slow = await server(files, () => ({ delayMs: 10_000 }))
    // the fast mirror answers once the slow one has the same request, so the race is real
    const fast = await server(files, (_req, _res, { file }) => ({
      after: until(() => slow.requests.some((r) => r.file === file), `the slow request for ${file}`),
    }))
    const summary = await run([slow.url, fast.url])
    assert.equal(summary.ok, true)
    for (const f of summary.files) assert.equal(f.url, `${fast.url}/${f.file}`)
    assert.equal(slow.requests.length, FILES.length)
    await until(() => slow.requests.every((r) => r.closed), 'the slow requests to close')
    assert.ok(slow.requests.every((r) => r.closedEarly && r.status === undefined))
  })

  it('uses another mirror when one fails', async () => {
    const files = datasetFiles()
    const broken = await server(new Map())
    const good = await server(files)
    const summary = await run([broken.url, good.url], { only: ['title.crew'] })
    assert.equal(summary.files[0].status, 'downloaded')
    assert.equal(summary.files[0].url, `${good.url}/title.crew.tsv.gz`)
  })

  it('downloads only the files asked for', async () => {
    const s = await server(datasetFiles())
    const summary = await run([s.url], { only: ['name.basics', 'title.ratings'] })
    assert.deepEqual(
      summary.files.map((f) => f.name),
      ['title.ratings', 'name.basics'],
    )
    assert.deepEqual(
      new Set(s.requests.map((r) => r.file)),
      new Set(['title.ratings.tsv.gz', 'name.basics.tsv.gz']),
    )
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tsv.gz')).sort(), [
      'name.basics.tsv.gz',
      'title.ratings.tsv.gz',
    ])
  })

  it('has at most `concurrency` requests in flight', async () => {
    const s = await server(datasetFiles(), () => ({ delayMs: 40 }))
    const summary = await run([s.url], { concurrency: 2 })
    assert.equal(summary.ok, true)
    assert.equal(s.requests.length, FILES.length)
    assert.equal(s.maxActive, 2)
  })

  it('stops on abort, keeps the .part, and the next run resumes it', async () => {
    const files = datasetFiles(3000)
    const entry = files.get(BASICS)!
    const stalling = await server(files, (_req, res) => {
      res.writeHead(200, { etag: entry.etag, 'content-length': entry.body.length })
      res.write(entry.body.subarray(0, 20_000))
      return 'handled'
    })
    const controller = new AbortController()
    const summary = await run([stalling.url], {
      only: ['title.basics'],
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'data' && e.received >= 20_000) controller.abort()
      },
    })
    assert.equal(summary.aborted, true)
    assert.equal(summary.files[0].status, 'aborted')
    assert.equal((await stat(path.join(dir, `${BASICS}.part`))).size, 20_000)
    assert.equal(await exists(path.join(dir, BASICS)), false)

    const s = await server(files)
    const resumed = await run([s.url], { only: ['title.basics'] })
    assert.equal(resumed.files[0].status, 'downloaded')
    assert.equal(s.requests[0].headers.range, 'bytes=20000-')
    assert.deepEqual(await readFile(path.join(dir, BASICS)), entry.body)
  })

  it('aborts a stalled response and resumes it', async () => {
    const files = datasetFiles()
    const entry = files.get(BASICS)!
    const s = await server(files, (_req, res, { n }) => {
      if (n > 1) return undefined
      res.writeHead(200, { etag: entry.etag, 'content-length': entry.body.length })
      res.write(entry.body.subarray(0, 1000))
      return 'handled'
    })
    const summary = await run([s.url], { only: ['title.basics'], stallTimeoutMs: 200 })
    assert.equal(summary.files[0].status, 'downloaded')
    assert.equal(s.requests[1].headers.range, 'bytes=1000-')
    assert.deepEqual(await readFile(path.join(dir, BASICS)), entry.body)
  })

  it('refuses a directory another live download holds, and takes over a stale lock', async () => {
    const s = await server(datasetFiles())
    await writeFile(path.join(dir, '.download.lock'), `${process.ppid}\n`)
    await assert.rejects(run([s.url], { only: ['title.crew'] }), DownloadLockedError)
    const child = spawn(process.execPath, ['-e', ''])
    await new Promise((resolve) => child.on('close', resolve))
    await writeFile(path.join(dir, '.download.lock'), `${child.pid}\n`)
    const summary = await run([s.url], { only: ['title.crew'] })
    assert.equal(summary.ok, true)
    assert.equal(await exists(path.join(dir, '.download.lock')), false)
  })
})

describe('resolveBaseUrls', () => {
  it('takes the flags, else MARQUEE_DOWNLOAD_BASE_URL (a list), else the IMDb default', () => {
    const env = { MARQUEE_DOWNLOAD_BASE_URL: 'http://a.test/imdb/, https://b.test' }
    assert.deepEqual(resolveBaseUrls(['http://flag.test/'], env), ['http://flag.test'])
    assert.deepEqual(resolveBaseUrls(undefined, env), ['http://a.test/imdb', 'https://b.test'])
    assert.deepEqual(resolveBaseUrls([], {}), [DEFAULT_BASE_URL])
    assert.equal(DEFAULT_BASE_URL, 'https://datasets.imdbws.com')
    assert.throws(
      () => resolveBaseUrls(undefined, { MARQUEE_DOWNLOAD_BASE_URL: 'file:///tmp' }),
      (err: Error) => err instanceof ConfigError && /MARQUEE_DOWNLOAD_BASE_URL/.test(err.message),
    )
  })
})

after(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})
