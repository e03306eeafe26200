/** The part of pg-copy-streams (which ships no types) that marquee uses. */
declare module 'pg-copy-streams' {
  import type { Readable, ReadableOptions, Writable, WritableOptions } from 'node:stream'
  import type { Submittable } from 'pg'

  /** `COPY ... FROM STDIN`: write the rows, then end(); 'finish' once the server has them all. */
  export interface CopyStreamQuery extends Writable, Submittable {
    /** Rows the server reported loading (after 'finish'). */
    rowCount: number
  }

  /** `COPY ... TO STDOUT`: the rows as a readable byte stream. */
  export interface CopyToStreamQuery extends Readable, Submittable {
    rowCount: number
  }

  export function from(text: string, options?: WritableOptions): CopyStreamQuery
  export function to(text: string, options?: ReadableOptions): CopyToStreamQuery
}
