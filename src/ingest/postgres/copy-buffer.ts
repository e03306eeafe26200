/**
 * Rows in PostgreSQL's COPY text format, written straight into a byte buffer: fields separated by
 * tabs, rows by newlines, `\N` for NULL, and in text a backslash, newline, carriage return or tab
 * escaped with a backslash. Nothing else is special (a `"` is an ordinary byte: this is the text
 * format, not CSV). Text arrives either as UTF-8 bytes (the parser's raw batches, copied without
 * decoding) or as JS strings.
 *
 * PostgreSQL text cannot hold a NUL character: a field containing one makes `text()` return false
 * and the caller skips the row (rolling back to `mark()`).
 */

const TAB = 9
const LF = 10
const CR = 13
const BACKSLASH = 92
const MINUS = 45
const ZERO = 48
const LOWER_N = 110
const LOWER_R = 114
const LOWER_T = 116
const UPPER_N = 78

export class CopyBuffer {
  buf: Buffer
  pos = 0

  constructor(readonly flushAt = 1 << 18) {
    this.buf = Buffer.allocUnsafe(flushAt + (1 << 12))
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(bigger, 0, 0, this.pos)
    this.buf = bigger
  }

  get full(): boolean {
    return this.pos >= this.flushAt
  }

  /** The bytes written so far, handed over (the buffer is not reused), and a fresh buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos)
    this.buf = Buffer.allocUnsafe(this.flushAt + (1 << 12))
    this.pos = 0
    return out
  }

  /** Where the current row starts, to roll back to when a field cannot be stored. */
  mark(): number {
    return this.pos
  }

  reset(mark: number): void {
    this.pos = mark
  }

  tab(): void {
    this.ensure(1)
    this.buf[this.pos++] = TAB
  }

  eol(): void {
    this.ensure(1)
    this.buf[this.pos++] = LF
  }

  nul(): void {
    this.ensure(2)
    this.buf[this.pos++] = BACKSLASH
    this.buf[this.pos++] = UPPER_N
  }

  /** A whole number (ids, years, counts). */
  int(v: number): void {
    this.ensure(24)
    const buf = this.buf
    if (v < 0) {
      buf[this.pos++] = MINUS
      v = -v
    }
    if (v > 0x7fffffff) {
      this.pos += buf.write(String(v), this.pos, 'latin1')
      return
    }
    let n = v | 0
    if (n < 10) {
      buf[this.pos++] = ZERO + n
      return
    }
    const digits =
      n < 100
        ? 2
        : n < 1e3
          ? 3
          : n < 1e4
            ? 4
            : n < 1e5
              ? 5
              : n < 1e6
                ? 6
                : n < 1e7
                  ? 7
                  : n < 1e8
                    ? 8
                    : n < 1e9
                      ? 9
                      : 10
    let p = this.pos + digits
    this.pos = p
    while (n >= 10) {
      const q = (n / 10) | 0
      buf[--p] = ZERO + n - q * 10
      n = q
    }
    buf[--p] = ZERO + n
  }

  /** A number or NULL (NaN is NULL, as in the parser's batches). */
  num(v: number): void {
    if (Number.isNaN(v)) this.nul()
    else if (Number.isInteger(v)) this.int(v)
    else {
      this.ensure(32)
      this.pos += this.buf.write(String(v), this.pos, 'latin1')
    }
  }

  /** ASCII bytes that need no escaping (a constant such as a role name). */
  ascii(s: string): void {
    this.ensure(s.length)
    this.pos += this.buf.write(s, this.pos, 'latin1')
  }

  /** UTF-8 bytes `src[s..e)`, escaped; false (nothing usable written) on a NUL byte. */
  text(src: Uint8Array, s: number, e: number): boolean {
    this.ensure(2 * (e - s))
    const buf = this.buf
    let o = this.pos
    for (let i = s; i < e; i++) {
      const b = src[i]
      if (b > CR && b !== BACKSLASH) {
        buf[o++] = b
        continue
      }
      switch (b) {
        case BACKSLASH:
          buf[o++] = BACKSLASH
          buf[o++] = BACKSLASH
          break
        case LF:
          buf[o++] = BACKSLASH
          buf[o++] = LOWER_N
          break
        case CR:
          buf[o++] = BACKSLASH
          buf[o++] = LOWER_R
          break
        case TAB:
          buf[o++] = BACKSLASH
          buf[o++] = LOWER_T
          break
        case 0:
          return false
        default:
          buf[o++] = b
      }
    }
    this.pos = o
    return true
  }

  /** A JS string as UTF-8, escaped; false on a NUL character. */
  str(value: string): boolean {
    let plain = true
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i)
      if (c === BACKSLASH || c === LF || c === CR || c === TAB || c === 0) {
        plain = false
        break
      }
    }
    if (plain) {
      this.ensure(value.length * 3)
      this.pos += this.buf.write(value, this.pos, 'utf8')
      return true
    }
    const bytes = Buffer.from(value, 'utf8')
    return this.text(bytes, 0, bytes.length)
  }
}
