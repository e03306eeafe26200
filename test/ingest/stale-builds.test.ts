import assert from 'node:assert/strict'
import { readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { generateSample } from '../../src/datasets/sample/generator.js'
import { ingest } from '../../src/ingest/index.js'
import { tempDir } from '../helpers/server.js'

describe('ingest after a killed ingest', () => {
  it('removes the build files of a dead process and keeps those of a live one', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      const data = path.join(dir, 'imdb')
      await generateSample({ titles: 500, out: data })
      const dbPath = path.join(dir, 'marquee.db')
      // No process has pid 2^22 + 1 (above Linux's pid_max default); pid 1 is always alive.
      const dead = `${dbPath}.building-4194305`
      const alive = `${dbPath}.building-1`
      for (const f of [dead, `${dead}-side`, alive]) await writeFile(f, 'partial')
      await ingest({ dataDir: data, dbPath })
      const left = (await readdir(dir)).filter((n) => n.includes('.building-'))
      assert.deepEqual(left, ['marquee.db.building-1'])
    } finally {
      await cleanup()
    }
  })
})
