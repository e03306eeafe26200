/** The errors an ingest rejects with, whatever the backend: matched by code. */

export type IngestErrorCode = 'INGEST_ABORTED' | 'INGEST_FAILED' | 'INGEST_BAD_OPTIONS' | 'INGEST_DISK_FULL'

export class IngestError extends Error {
  override name = 'IngestError'
  constructor(
    readonly code: IngestErrorCode,
    message: string,
    opts?: { cause?: unknown },
  ) {
    super(message, opts)
  }
}
