/**
 * Back-pressure between a worker and its receiver over a MessagePort: at most `size` messages sent
 * and not yet acknowledged. The sender counts each message (`sent`), the receiver's `ack` frees a
 * place (`acked`), and the sender awaits `room()` before producing more.
 */
export class AckWindow {
  #inflight = 0
  #wake: (() => void) | null = null
  #released = false

  constructor(readonly size: number) {}

  sent(): void {
    this.#inflight++
  }

  acked(): void {
    this.#inflight--
    if (this.#inflight < this.size) this.#resume()
  }

  /** Never waits again (the receiver went away: the sender must get on to stopping). */
  release(): void {
    this.#released = true
    this.#resume()
  }

  /** Resolves once fewer than `size` messages are unacknowledged (at once when they are). */
  async room(): Promise<void> {
    if (this.#released || this.#inflight < this.size) return
    await new Promise<void>((resolve) => {
      this.#wake = resolve
    })
  }

  #resume(): void {
    const w = this.#wake
    this.#wake = null
    w?.()
  }
}
