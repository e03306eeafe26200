import { type Command, InvalidArgumentError, Option } from 'commander'
import { ALL_SETTINGS, type ConfigInput, DEFAULTS } from '../config.js'
import { DATASET_NAMES, type DatasetName, isDatasetName } from '../datasets/catalogue.js'

/** Adds the options of the named config settings to a command, documented with their env variable. */
export function addSettingOptions(cmd: Command, keys: readonly string[]): Command {
  for (const spec of ALL_SETTINGS.filter((s) => keys.includes(s.key))) {
    const flags = spec.kind === 'bool' ? spec.flag : `${spec.flag} <${spec.kind === 'int' ? 'n' : 'value'}>`
    cmd.addOption(new Option(flags, `${spec.description} [env ${spec.env}]`))
    // A switch that is on by default is turned off with --no-<flag> (with both defined, commander
    // leaves the value undefined when neither is given, so the default still comes from config).
    if (spec.kind === 'bool' && DEFAULTS[spec.key] === true)
      cmd.addOption(new Option(`--no-${spec.flag.slice(2)}`, `turn ${spec.flag} off`))
  }
  return cmd
}

/** The config overrides a command's parsed options carry (only what was given). */
export function settingsFrom(opts: Record<string, unknown>): ConfigInput {
  const out: Record<string, unknown> = {}
  for (const spec of ALL_SETTINGS) {
    const value = opts[attributeOf(spec.flag)]
    if (value !== undefined) out[spec.key] = value
  }
  return out as ConfigInput
}

/** Commander's attribute name of a flag: `--query-timeout` -> `queryTimeout`. */
const attributeOf = (flag: string) => flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

/** `--only title.basics,name.basics` */
export function parseDatasetList(value: string): DatasetName[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const unknown = names.filter((n) => !isDatasetName(n))
  if (unknown.length > 0 || names.length === 0) {
    throw new InvalidArgumentError(
      `unknown dataset ${unknown.map((u) => `"${u}"`).join(', ') || '(none given)'}; expected a comma-separated list of ${DATASET_NAMES.join(', ')}`,
    )
  }
  return names as DatasetName[]
}

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`)
  }
  return Number(value)
}
