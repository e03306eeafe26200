import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import semver from 'semver'
import { ROOT } from './helpers/cli.js'

interface LockEntry {
  engines?: { node?: string }
  optional?: boolean
}

// The oldest release of each Node line marquee is tested on, and the one running now. npm warns
// (EBADENGINE) at install for every installed package whose `engines.node` excludes the running
// Node; optional packages that do not fit are skipped without a warning.
const TESTED = ['20.19.0', '22.12.0', '24.0.0', process.versions.node]

describe('engines', () => {
  it('every package npm installs accepts each tested Node', async () => {
    const lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, LockEntry>
    }
    const rootRange = lock.packages['']?.engines?.node
    assert.ok(rootRange, 'package.json declares engines.node')
    const misfits: string[] = []
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = entry.engines?.node
      if (!range || entry.optional) continue
      for (const version of TESTED) {
        if (!semver.satisfies(version, range)) misfits.push(`${path} (${range}) on Node ${version}`)
      }
    }
    assert.deepEqual(misfits, [], 'pin a release that fits in package.json "overrides"')
    for (const version of TESTED) assert.ok(semver.satisfies(version, rootRange), version)
  })
})
