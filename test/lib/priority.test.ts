import assert from 'node:assert/strict'
import { once } from 'node:events'
import { getPriority } from 'node:os'
import { describe, it } from 'node:test'
import { BACKGROUND_NICE } from '../../src/lib/priority.js'
import { spawnWorker, workerUrl } from '../../src/lib/worker-url.js'

const ENTRY = workerUrl('./priority.worker.js', import.meta.url)

async function niceOf(background: boolean): Promise<number> {
  const w = spawnWorker(ENTRY, { background })
  try {
    const [nice] = await once(w, 'message')
    return nice as number
  } finally {
    await w.terminate()
  }
}

describe('background worker threads', { skip: process.platform !== 'linux' }, () => {
  it('run at a lower CPU priority when asked, and leave the spawning thread as it was', async () => {
    const mine = getPriority()
    assert.equal(await niceOf(true), Math.max(mine, BACKGROUND_NICE))
    assert.equal(await niceOf(false), mine)
    assert.equal(getPriority(), mine)
  })
})
