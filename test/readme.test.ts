import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { SETTINGS } from '../src/config.js'

describe('README', () => {
  it('opens with the two commands', async () => {
    const readme = await readFile('README.md', 'utf8')
    const firstBlock = readme.slice(
      readme.indexOf('```sh'),
      readme.indexOf('```', readme.indexOf('```sh') + 5),
    )
    assert.match(firstBlock, /npm ci && npm start/)
    assert.match(firstBlock, /npm test/)
  })

  it('documents every setting with its flag and environment variable (scripts/settings-table.ts)', async () => {
    const readme = await readFile('README.md', 'utf8')
    for (const s of SETTINGS) {
      const row = new RegExp(`\\| \`${s.flag}\` +\\| \`${s.env}\` +\\|`)
      assert.match(readme, row, `README lacks ${s.flag} / ${s.env}: run scripts/settings-table.ts`)
    }
  })
})
