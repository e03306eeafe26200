import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { DownloadSummary, FileResult } from '../../src/download/index.js'
import { createProgressReporter, formatBytes, formatSummary } from '../../src/download/progress.js'

const ref = { name: 'title.basics', file: 'title.basics.tsv.gz' } as const

function result(over: Partial<FileResult>): FileResult {
  return {
    ...ref,
    path: '/x/title.basics.tsv.gz',
    status: 'downloaded',
    url: 'http://h/title.basics.tsv.gz',
    urls: ['http://h/title.basics.tsv.gz'],
    bytes: 2048,
    size: 2048,
    resumed: false,
    attempts: 1,
    durationMs: 1500,
    ...over,
  }
}

describe('download progress', () => {
  it('prints plain lines when not on a terminal, with periodic byte counts, rate and ETA', () => {
    let out = ''
    let t = 0
    const r = createProgressReporter({ write: (s: string) => (out += s) }, [ref.file], {
      tty: false,
      now: () => t,
      intervalMs: 60_000,
    })
    r.onProgress({ type: 'start', ...ref })
    r.onProgress({
      type: 'response',
      ...ref,
      url: 'http://h/title.basics.tsv.gz',
      status: 206,
      offset: 1024,
      total: 4096,
    })
    t = 1000
    r.onProgress({ type: 'data', ...ref, received: 2048, total: 4096 })
    r.onProgress({ type: 'verify', ...ref })
    r.onProgress({ type: 'done', result: result({ resumed: true, size: 4096 }) })
    r.stop()
    assert.match(
      out,
      /title\.basics\.tsv\.gz: resuming at 1\.00 KiB of 4\.00 KiB from http:\/\/h\/title\.basics\.tsv\.gz\n/,
    )
    assert.match(out, /title\.basics\.tsv\.gz: verifying\n/)
    assert.match(out, /title\.basics\.tsv\.gz: downloaded 4\.00 KiB \(resumed\)\n/)
    assert.doesNotMatch(out, /\x1b\[/)
  })

  it('redraws one line per file in place on a terminal', () => {
    let out = ''
    let t = 0
    const files = [ref.file, 'title.akas.tsv.gz']
    const r = createProgressReporter({ write: (s: string) => (out += s) }, files, {
      tty: true,
      now: () => t,
      intervalMs: 60_000,
    })
    r.onProgress({ type: 'response', ...ref, url: 'u', status: 200, offset: 0, total: 10 * 1024 * 1024 })
    t = 1000
    r.onProgress({ type: 'data', ...ref, received: 1024 * 1024, total: 10 * 1024 * 1024 })
    t = 2000
    r.onProgress({ type: 'data', ...ref, received: 2 * 1024 * 1024, total: 10 * 1024 * 1024 })
    r.onProgress({ type: 'start', name: 'title.akas', file: 'title.akas.tsv.gz' })
    r.log('a message')
    r.stop()
    assert.match(out, /\x1b\[2A/)
    // 2 MiB of 10 MiB at 1 MiB/s: 8 s left
    assert.match(out, /title\.basics\.tsv\.gz {2}2\.00 MiB \/ 10\.0 MiB {2}20% {2}1\.00 MiB\/s {2}ETA 8\.0s/)
    assert.match(out, /title\.akas\.tsv\.gz {4}connecting/)
    assert.match(out, /a message\n/)
  })

  it('summarises every file and the totals', () => {
    const summary: DownloadSummary = {
      files: [
        result({}),
        result({ name: 'title.akas', file: 'title.akas.tsv.gz', status: 'unchanged', bytes: 0 }),
        result({
          name: 'title.crew',
          file: 'title.crew.tsv.gz',
          status: 'failed',
          bytes: 0,
          error: 'HTTP 404 Not Found from u',
        }),
      ],
      ok: false,
      aborted: false,
      bytes: 2048,
      durationMs: 2500,
    }
    const text = formatSummary(summary)
    assert.match(text, /^downloaded {2}title\.basics\.tsv\.gz {2}2\.00 KiB in 1\.5s$/m)
    assert.match(text, /^unchanged {3}title\.akas\.tsv\.gz/m)
    assert.match(text, /^failed {6}title\.crew\.tsv\.gz {4}HTTP 404 Not Found from u$/m)
    assert.match(text, /1 downloaded, 1 unchanged, 1 failed: 2\.00 KiB in 2\.5s\n$/)
    assert.equal(formatBytes(512), '512 B')
  })
})
