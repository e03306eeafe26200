import { getPriority, setPriority } from 'node:os'

/** The nice value of threads doing background work: queries, an ingest inside the server. */
export const BACKGROUND_NICE = 10

/**
 * Lowers the CPU priority of the calling worker thread, so that when the cores are all busy the
 * event loop (health checks, routing, answering) gets them first and heavy work waits.
 *
 * Linux keeps a nice value per thread, so this touches the calling thread alone; on other systems
 * `setPriority(0, ...)` would lower the whole process, event loop included, so it does nothing there.
 */
export function lowerThreadPriority(nice = BACKGROUND_NICE): void {
  if (process.platform !== 'linux') return
  try {
    // Never raises it: a process started under `nice 15` keeps its threads at 15.
    setPriority(Math.max(getPriority(), nice))
  } catch {
    // A sandbox may forbid it: the thread keeps the process's priority.
  }
}
