/**
 * Prints the README's configuration table from the settings table in src/config.ts:
 * `node --import tsx scripts/settings-table.ts`. test/readme.test.ts checks the README lists them all.
 */
import { DEFAULTS, SETTINGS } from '../src/config.js'

const special: Record<string, string> = { poolSize: 'CPU count', usersDbPath: '`users.db` next to `--db`' }
const rows = SETTINGS.map((s) => {
  const value: unknown = DEFAULTS[s.key]
  const def =
    special[s.key] ??
    (value === null || value === undefined
      ? 'none'
      : typeof value === 'boolean'
        ? value
          ? 'on'
          : 'off'
        : `\`${value}\``)
  return `| \`${s.flag}\` | \`${s.env}\` | ${def} | ${s.description} |`
})
console.log(['| flag | variable | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n'))
