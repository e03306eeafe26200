/** CSV as the exports and the SQL console write it: RFC 4180, CRLF line ends. */

/** One RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value
}

/** A cell as text: null/undefined empty, scalar lists joined with `|`, other objects as JSON. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return ''
  switch (typeof value) {
    case 'string':
      return csvField(value)
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value)
  }
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) {
    return csvField(value.map((v) => (v === null ? '' : String(v))).join('|'))
  }
  if (value instanceof Uint8Array) return csvField(Buffer.from(value).toString('base64'))
  return csvField(JSON.stringify(value))
}

/** One CSV record, CRLF-terminated. */
export function csvLine(values: readonly unknown[]): string {
  let line = ''
  for (let i = 0; i < values.length; i++) line += (i === 0 ? '' : ',') + csvCell(values[i])
  return `${line}\r\n`
}
