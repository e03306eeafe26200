/**
 * Worker entry of the sample generator: receives the shared {@link World} once (workerData), then
 * writes whichever dataset files the main thread hands it, one at a time.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { DatasetName } from '../catalogue.js'
import type { World } from './world.js'
import { writeDataset } from './write.js'

export interface SampleWorkerData {
  readonly world: World
  readonly dir: string
}

export type SampleWorkerMessage =
  | { readonly type: 'progress'; readonly name: DatasetName; readonly rows: number }
  | { readonly type: 'done'; readonly summary: Awaited<ReturnType<typeof writeDataset>> }
  | { readonly type: 'error'; readonly name: DatasetName; readonly message: string }

const { world, dir } = workerData as SampleWorkerData
const port = parentPort!

port.on('message', (name: DatasetName) => {
  const post = (m: SampleWorkerMessage): void => port.postMessage(m)
  writeDataset(world, name, dir, (rows) => post({ type: 'progress', name, rows })).then(
    (summary) => post({ type: 'done', summary }),
    (err: unknown) =>
      post({ type: 'error', name, message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  )
})
