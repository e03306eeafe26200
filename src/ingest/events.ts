/** What an ingest reports while it runs (`onProgress`), the same for every backend. */

import type { DatasetName } from '../datasets/catalogue.js'

export type IngestPhase = 'fts' | 'indexes' | 'merge' | 'analyze' | 'sizes' | 'history' | 'swap'

export type IngestProgress =
  | {
      type: 'file'
      dataset: DatasetName
      file: string
      /** Compressed bytes read so far, of bytesTotal. */
      bytesRead: number
      bytesTotal: number
      /** Rows parsed / rows handed to the database so far. */
      rowsRead: number
      rowsWritten: number
      done: boolean
      /** Since this file's first progress event. */
      elapsedMs: number
    }
  | { type: 'bad-line'; dataset: DatasetName; file: string; line: number; reason: string }
  | { type: 'phase'; phase: IngestPhase }

export type FileProgressEvent = Extract<IngestProgress, { type: 'file' }>
