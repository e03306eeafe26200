/**
 * Progress of each file being loaded, merged from whoever counts it (a parser: bytes and rows read;
 * a writer: rows written), and the events that report it.
 */

import type { DatasetName } from '../datasets/catalogue.js'
import type { FileProgressEvent, IngestPhase, IngestProgress } from './events.js'
import type { SourceFile } from './manifest.js'

type FileState = FileProgressEvent & { started: number }

export class FileProgress {
  private readonly files: Map<DatasetName, FileState>

  constructor(
    sources: readonly SourceFile[],
    private readonly onProgress: ((e: IngestProgress) => void) | undefined,
  ) {
    this.files = new Map(
      sources.map((s) => [
        s.dataset,
        {
          type: 'file' as const,
          dataset: s.dataset,
          file: s.file,
          bytesRead: 0,
          bytesTotal: s.size,
          rowsRead: 0,
          rowsWritten: 0,
          done: false,
          elapsedMs: 0,
          started: 0,
        },
      ]),
    )
  }

  /** A file's counters, to update before `emit`. */
  of(dataset: DatasetName): FileProgressEvent {
    return this.files.get(dataset)!
  }

  /** Starts a file's clock now (otherwise its first event starts it). */
  start(dataset: DatasetName): void {
    this.files.get(dataset)!.started = performance.now()
  }

  /** Marks a file loaded: all its bytes read, `rowsRead` final when given. */
  done(dataset: DatasetName, rowsRead?: number): void {
    const f = this.files.get(dataset)!
    f.done = true
    f.bytesRead = f.bytesTotal
    if (rowsRead !== undefined) f.rowsRead = rowsRead
  }

  emit(dataset: DatasetName): void {
    if (!this.onProgress) return
    const f = this.files.get(dataset)!
    if (f.started === 0) f.started = performance.now()
    const { started: _, ...event } = f
    this.onProgress({ ...event, elapsedMs: Math.round(performance.now() - f.started) })
  }

  badLine(dataset: DatasetName, line: number, reason: string, file = this.files.get(dataset)!.file): void {
    this.onProgress?.({ type: 'bad-line', dataset, file, line, reason })
  }

  phase(phase: IngestPhase): void {
    this.onProgress?.({ type: 'phase', phase })
  }
}
