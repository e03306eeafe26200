import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import type { IngestProgress } from '../../src/ingest/index.js'
import { createProgressRenderer, formatFile } from '../../src/ingest/progress.js'

function sink(): { out: Writable; text: () => string } {
  let text = ''
  const out = new Writable({
    write(chunk, _enc, done) {
      text += chunk
      done()
    },
  })
  return { out, text: () => text }
}

const file = (over: Partial<Extract<IngestProgress, { type: 'file' }>>): IngestProgress => ({
  type: 'file',
  dataset: 'title.principals',
  file: '/data/title.principals.tsv.gz',
  bytesRead: 25e6,
  bytesTotal: 100e6,
  rowsRead: 2e6,
  rowsWritten: 2e6,
  done: false,
  elapsedMs: 2000,
  ...over,
})

describe('progress', () => {
  it('formats bytes of the compressed file, rows/s and an ETA from the bytes read', () => {
    const line = formatFile(file({}) as Extract<IngestProgress, { type: 'file' }>)
    assert.match(line, /title\.principals +25\.0\/100\.0 MB +25% +2\.0M rows +1\.0M rows\/s +ETA 6\.0s/)
  })

  it('prints plain lines when not a TTY: each finished file once, warnings and phases', () => {
    const { out, text } = sink()
    const render = createProgressRenderer({ out, tty: false, plainIntervalMs: 60_000 })
    render(file({}))
    render(file({ done: true, bytesRead: 100e6 }))
    render(file({ done: true, bytesRead: 100e6 }))
    render({
      type: 'bad-line',
      dataset: 'title.principals',
      file: '/d/p.tsv.gz',
      line: 7,
      reason: 'expected 6 fields, found 4',
    })
    render({ type: 'phase', phase: 'fts' })
    const lines = text().trim().split('\n')
    assert.equal(lines.length, 3)
    assert.match(lines[0], /done in 2\.0s/)
    assert.equal(lines[1], 'warning: /d/p.tsv.gz:7: expected 6 fields, found 4 (line skipped)')
    assert.equal(lines[2], 'building full-text indexes…')
    assert.ok(!text().includes('\x1b['))
  })

  it('redraws in place on a TTY', () => {
    const { out, text } = sink()
    const render = createProgressRenderer({ out, tty: true })
    render(file({ done: true }))
    render(file({ dataset: 'title.akas', done: true }))
    // The second drawing moves up over the first one's line.
    assert.ok(text().includes('\x1b[1F'))
    assert.ok(text().includes('\x1b[2K'))
  })
})
