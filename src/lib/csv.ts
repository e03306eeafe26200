/** CSV as the exports and the SQL console write it: RFC 4180, CRLF line ends. */

/**
 * How text fields are written. 'neutralized' (the default everywhere): a field beginning with `=`,
 * `+`, `-`, `@`, tab or CR gets a leading `'`, so a spreadsheet shows it instead of running it as a
 * formula (OWASP's rule against CSV injection; IMDb titles can begin with these). 'raw': as it is.
 */
export type CsvText = 'neutralized' | 'raw'

const FORMULA_START = /^[=+\-@\t\r]/

/** One RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string, text: CsvText = 'neutralized'): string {
  const safe = text === 'neutralized' && FORMULA_START.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe
}

/** A cell as text: null/undefined empty, scalar lists joined with `|`, other objects as JSON. */
export function csvCell(value: unknown, text: CsvText = 'neutralized'): string {
  if (value === null || value === undefined) return ''
  switch (typeof value) {
    case 'string':
      return csvField(value, text)
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value)
  }
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) {
    return csvField(value.map((v) => (v === null ? '' : String(v))).join('|'), text)
  }
  if (value instanceof Uint8Array) return csvField(Buffer.from(value).toString('base64'), text)
  return csvField(JSON.stringify(value), text)
}

/** One CSV record, CRLF-terminated. */
export function csvLine(values: readonly unknown[], text: CsvText = 'neutralized'): string {
  let line = ''
  for (let i = 0; i < values.length; i++) line += (i === 0 ? '' : ',') + csvCell(values[i], text)
  return `${line}\r\n`
}
