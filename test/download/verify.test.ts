import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { datasetSpec } from '../../src/datasets/catalogue.js'
import { VerifyError } from '../../src/download/errors.js'
import { expectedHeader, verifyDatasetFile } from '../../src/download/verify.js'
import { datasetBody } from './fixtures.js'

describe('verifyDatasetFile', () => {
  let dir: string
  const header = expectedHeader(datasetSpec('title.ratings'))
  const file = async (name: string, bytes: Buffer) => {
    const p = path.join(dir, name)
    await writeFile(p, bytes)
    return p
  }

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'marquee-verify-'))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  it('accepts a complete file with the catalogue header, in one or several gzip members', async () => {
    assert.equal(header, 'tconst\taverageRating\tnumVotes')
    const body = datasetBody(datasetSpec('title.ratings'), 50)
    await verifyDatasetFile(await file('one.gz', body), 'title.ratings')
    const members = Buffer.concat([
      gzipSync(`${header}\ntt0000001\t5.0\t10\n`),
      gzipSync('tt0000002\t6.0\t20\n'),
    ])
    const r = await verifyDatasetFile(await file('two.gz', members), 'title.ratings')
    assert.equal(r.uncompressedBytes, header.length + 1 + 34)
    await verifyDatasetFile(await file('bare.gz', gzipSync(header)), 'title.ratings')
  })

  it('rejects a truncated gzip, a non-gzip, an empty file and a wrong or CRLF header', async () => {
    const body = datasetBody(datasetSpec('title.ratings'), 50)
    const cases: Array<[string, Buffer, RegExp]> = [
      ['truncated.gz', body.subarray(0, body.length - 1), /not a complete gzip file/],
      ['plain.gz', Buffer.from(`${header}\n`), /not a complete gzip file/],
      ['empty.gz', Buffer.alloc(0), /not a complete gzip file/],
      ['wrong.gz', gzipSync('tconst\tnumVotes\taverageRating\n'), /not the expected header/],
      ['crlf.gz', gzipSync(`${header}\r\n`), /not the expected header/],
    ]
    for (const [name, bytes, message] of cases) {
      await assert.rejects(verifyDatasetFile(await file(name, bytes), 'title.ratings'), (err: Error) => {
        assert.ok(err instanceof VerifyError, name)
        assert.match(err.message, message, name)
        return true
      })
    }
  })
})
