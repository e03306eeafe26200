/** The errors an update rejects with, and the Fallback on which a refresh becomes a full rebuild. */

export type UpdateErrorCode = 'UPDATE_LOCKED' | 'UPDATE_ABORTED' | 'UPDATE_FAILED'

export class UpdateError extends Error {
  override name = 'UpdateError'
  constructor(
    readonly code: UpdateErrorCode,
    message: string,
    opts?: { cause?: unknown },
  ) {
    super(message, opts)
  }
}

/** Why a refresh gives up on applying differences; the update then rebuilds in full. */
export class Fallback extends Error {
  override name = 'Fallback'
}

/** The caller aborted: nothing was replaced. */
export function aborted(signal: AbortSignal): UpdateError {
  return new UpdateError('UPDATE_ABORTED', 'update interrupted; nothing was replaced', {
    cause: signal.reason,
  })
}
