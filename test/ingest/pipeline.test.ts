import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads'
import type { DatasetName } from '../../src/datasets/catalogue.js'
import { DatasetError } from '../../src/datasets/parse.js'
import type { ParseMessage } from '../../src/datasets/parse.worker.js'
import { IngestError, type IngestProgress, type IngestSummary } from '../../src/ingest/index.js'
import { datasetsToLoad } from '../../src/ingest/load-order.js'
import { startParsers } from '../../src/ingest/parsers.js'
import { runIngest } from '../../src/ingest/pipeline.js'
import type { IngestPlan, RowSink } from '../../src/ingest/sink.js'
import { tempDir, writeQuirks } from '../fixtures/quirks.js'

/**
 * A RowSink that keeps what it is given in memory: the calls the pipeline makes, and each file's
 * rows as the parse workers deliver them, on one lane (so in the order it is fed).
 */
class MemorySink implements RowSink {
  readonly calls: string[] = []
  readonly files: { dataset: DatasetName; rows: number }[] = []
  abortReason: unknown = null
  private plan!: IngestPlan
  private workers: Worker[] = []

  async open(plan: IngestPlan): Promise<void> {
    this.calls.push('open')
    this.plan = plan
  }

  load(): Promise<void> {
    this.calls.push('load')
    const { datasets, signal } = this.plan
    return new Promise((resolve, reject) => {
      signal.throwIfAborted()
      const ports = new Map<DatasetName, MessagePort>()
      let left = datasets.length
      for (const dataset of datasets) {
        const { port1, port2 } = new MessageChannel()
        ports.set(dataset, port1)
        let rows = 0
        port2.on('message', (m: ParseMessage) => {
          if (m.type === 'batch') {
            rows += m.batch.rows
            port2.postMessage({ type: 'ack' })
          } else if (m.type === 'end') {
            port2.close()
            this.files.push({ dataset, rows })
            this.plan.progress.done(dataset, rows)
            if (--left === 0) resolve()
          } else reject(DatasetError.fromJSON(m.error))
        })
      }
      this.workers = startParsers(this.plan, { lanes: [datasets], ports, raw: () => false, fail: reject })
    })
  }

  async finish(): Promise<IngestSummary> {
    this.calls.push('finish')
    return { generation: this.plan.generation, loaded: this.plan.datasets } as IngestSummary
  }

  async swap(): Promise<void> {
    this.calls.push('swap')
  }

  async abort(reason: unknown): Promise<void> {
    this.calls.push('abort')
    this.abortReason = reason
  }

  async close(): Promise<void> {
    this.calls.push('close')
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

describe('the ingest pipeline over a RowSink', () => {
  let dir: string
  let cleanup: () => Promise<void>
  before(async () => {
    ;({ dir, cleanup } = await tempDir('marquee-pipeline-'))
    await writeQuirks(dir)
  })
  after(() => cleanup())

  it('opens, loads every file in load order, finishes, swaps and closes', async () => {
    const sink = new MemorySink()
    const events: IngestProgress[] = []
    const datasets = datasetsToLoad(['title.principals', 'title.ratings', 'title.basics'])
    const summary = await runIngest(sink, datasets, { dataDir: dir, onProgress: (e) => events.push(e) })
    assert.deepEqual(sink.calls, ['open', 'load', 'finish', 'swap', 'close'])
    assert.deepEqual(
      sink.files.map((f) => f.dataset),
      ['title.ratings', 'title.basics', 'title.principals'],
    )
    assert.ok(sink.files.every((f) => f.rows > 0))
    assert.deepEqual(summary.loaded, ['title.ratings', 'title.basics', 'title.principals'])
    assert.match(summary.generation, /^\d{8}T\d{9}Z-[0-9a-f]{12}$/)
    assert.deepEqual(
      events.filter((e) => e.type === 'phase'),
      [{ type: 'phase', phase: 'swap' }],
    )
  })

  it('aborts the sink, and never swaps, when a file is broken', async () => {
    const { dir: broken, cleanup: done } = await tempDir('marquee-pipeline-broken-')
    try {
      await writeQuirks(broken, { raw: { 'title.basics': Buffer.from('not gzip at all') } })
      const sink = new MemorySink()
      const datasets = datasetsToLoad(['title.ratings', 'title.basics'])
      await assert.rejects(runIngest(sink, datasets, { dataDir: broken }), DatasetError)
      assert.deepEqual(sink.calls, ['open', 'load', 'abort', 'close'])
      assert.ok(sink.abortReason instanceof DatasetError)
    } finally {
      await done()
    }
  })

  it("aborts the sink with INGEST_ABORTED when the caller's signal fires", async () => {
    const sink = new MemorySink()
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await assert.rejects(
      runIngest(sink, datasetsToLoad(undefined), { dataDir: dir, signal: controller.signal }),
      (err: unknown) => err instanceof IngestError && err.code === 'INGEST_ABORTED',
    )
    assert.deepEqual(sink.calls, ['open', 'load', 'abort', 'close'])
    assert.equal((sink.abortReason as IngestError).code, 'INGEST_ABORTED')
  })
})
