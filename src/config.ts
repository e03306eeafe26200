import { availableParallelism } from 'node:os'
import path from 'node:path'

/** Every setting of marquee, resolved once at start and frozen. */
export interface Config {
  readonly host: string
  readonly port: number
  /** The SQLite dataset database. */
  readonly dbPath: string
  /** Where the IMDb `.tsv.gz` files live. */
  readonly dataDir: string
  /** True when the data directory was given explicitly (flag or env), not defaulted. */
  readonly dataDirExplicit: boolean
  /** Where `npm start` generates the bundled sample when no IMDb files are configured. */
  readonly sampleDir: string
  readonly requireApiKey: boolean
  /** JSON file of hashed API keys: `[{ "name", "role", "sha256" }]`. */
  readonly apiKeysFile: string | null
  /** The SQLite user store (API keys, watchlists, ratings); by default `users.db` next to the dataset database. */
  readonly usersDbPath: string
  readonly queryTimeoutMs: number
  /** Memory (MB) for answers of slow list and search queries, per generation; 0 turns the cache off. */
  readonly resultCacheMb: number
  /** Query worker threads. */
  readonly poolSize: number
  /** Run every query on the main thread instead of the worker pool (a benchmark contrast, not for production). */
  readonly inlineQueries: boolean
  /** Run bounded point lookups (GET /titles/{tconst} without include) on the main thread. */
  readonly inlinePointLookups: boolean
  readonly shutdownTimeoutMs: number
  /**
   * After SIGTERM, keep answering (each response closing its connection) this long at most, then
   * stop listening.
   */
  readonly shutdownDrainMs: number
  readonly logLevel: LogLevel
  /** Requests per minute per API key (else per IP); 0 turns rate limiting off. */
  readonly rateLimitPerMinute: number
  /** Origins allowed by CORS: comma-separated, or `*`; null turns CORS off. */
  readonly corsOrigin: string | null
  /** Strict-Transport-Security max-age in seconds, for a server reached only over HTTPS; 0: not sent. */
  readonly hstsMaxAge: number
  /** Event-loop delay (ms) past which new data requests get 503; 0 turns the check off. */
  readonly maxEventLoopDelayMs: number
  /** Check the database file every this many ms (and on file events) and hot-swap a newer one; 0: off. */
  readonly watchDbMs: number
  /** Requests with an unknown API key per client address and minute before it gets 429; 0: no limit. */
  readonly authFailuresPerMinute: number
  /** GET /metrics only for API keys with the admin role (a Prometheus scraper sends one). */
  readonly metricsAdminOnly: boolean
  /** Serve GET /sql (read-only SQL for analyst and admin keys). */
  readonly sqlEnabled: boolean
  /** Rows GET /sql returns at most (the answer says `truncated`). */
  readonly sqlRowLimit: number
  /** PostgreSQL instead of SQLite, for the dataset and the user store; null: SQLite (dbPath, usersDbPath). */
  readonly databaseUrl: string | null
  /** PostgreSQL: the name of marquee's schemas (`<name>.current`, `<name>_g_<generation>`, `<name>_users`). */
  readonly databaseSchema: string
  /** POST a signed notice here when a new dataset generation goes live (src/notify/webhook.ts); null: none. */
  readonly webhookUrl: string | null
  /** The shared secret of the webhook's HMAC-SHA256 signature; required with webhookUrl. */
  readonly webhookSecret: string | null
  /** Change history (GET /changes): the newest generations whose changes are kept. */
  readonly historyGenerations: number
  /** Change history: days a generation's changes are kept at most; 0: no limit by age. */
  readonly historyDays: number
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** A bad setting; `setting` names it as the user wrote it (flag or environment variable). */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`invalid setting ${setting}: ${message}`)
    this.name = 'ConfigError'
  }
}

type Kind = 'string' | 'int' | 'bool' | 'path' | 'logLevel'

interface SettingSpec {
  readonly key: keyof Config
  readonly flag: string
  readonly env: string
  readonly kind: Kind
  readonly description: string
  readonly min?: number
  readonly max?: number
}

/** The settings that flags and `MARQUEE_*` variables can set; the CLI builds its options from this table. */
export const SETTINGS: readonly SettingSpec[] = [
  { key: 'host', flag: '--host', env: 'MARQUEE_HOST', kind: 'string', description: 'address to listen on' },
  {
    key: 'port',
    flag: '--port',
    env: 'MARQUEE_PORT',
    kind: 'int',
    min: 0,
    max: 65535,
    description: 'port to listen on (0 picks a free one)',
  },
  {
    key: 'dbPath',
    flag: '--db',
    env: 'MARQUEE_DB',
    kind: 'path',
    description: 'the SQLite dataset database file',
  },
  {
    key: 'dataDir',
    flag: '--data',
    env: 'MARQUEE_DATA',
    kind: 'path',
    description: 'directory of the IMDb .tsv.gz files',
  },
  {
    key: 'requireApiKey',
    flag: '--require-api-key',
    env: 'MARQUEE_REQUIRE_API_KEY',
    kind: 'bool',
    description: 'reject requests without a valid API key (401)',
  },
  {
    key: 'apiKeysFile',
    flag: '--api-keys',
    env: 'MARQUEE_API_KEYS',
    kind: 'path',
    description: 'JSON file of hashed API keys',
  },
  {
    key: 'sampleDir',
    flag: '--sample-dir',
    env: 'MARQUEE_SAMPLE_DIR',
    kind: 'path',
    description: 'where the bundled sample is generated when the data directory has no IMDb files',
  },
  {
    key: 'usersDbPath',
    flag: '--users-db',
    env: 'MARQUEE_USERS_DB',
    kind: 'path',
    description: 'the SQLite user store: API keys, watchlists, ratings (default: users.db next to --db)',
  },
  {
    key: 'queryTimeoutMs',
    flag: '--query-timeout',
    env: 'MARQUEE_QUERY_TIMEOUT_MS',
    kind: 'int',
    min: 1,
    max: 600_000,
    description: 'deadline of one database query, in milliseconds',
  },
  {
    key: 'resultCacheMb',
    flag: '--result-cache-mb',
    env: 'MARQUEE_RESULT_CACHE_MB',
    kind: 'int',
    min: 0,
    max: 65_536,
    description:
      'memory for the answers of slow list and search queries (kept per dataset generation); 0: off',
  },
  {
    key: 'poolSize',
    flag: '--pool-size',
    env: 'MARQUEE_POOL_SIZE',
    kind: 'int',
    min: 1,
    max: 256,
    description: 'query worker threads',
  },
  {
    key: 'inlineQueries',
    flag: '--inline-queries',
    env: 'MARQUEE_INLINE_QUERIES',
    kind: 'bool',
    description: 'run queries on the main thread instead of the worker pool (benchmark contrast)',
  },
  {
    key: 'inlinePointLookups',
    flag: '--inline-point-lookups',
    env: 'MARQUEE_INLINE_POINT_LOOKUPS',
    kind: 'bool',
    description:
      'answer single-title lookups (a few primary-key reads) on the main thread instead of the worker pool',
  },
  {
    key: 'shutdownTimeoutMs',
    flag: '--shutdown-timeout',
    env: 'MARQUEE_SHUTDOWN_TIMEOUT_MS',
    kind: 'int',
    min: 0,
    max: 600_000,
    description: 'how long in-flight requests may finish on shutdown, in milliseconds',
  },
  {
    key: 'shutdownDrainMs',
    flag: '--shutdown-drain',
    env: 'MARQUEE_SHUTDOWN_DRAIN_MS',
    kind: 'int',
    min: 0,
    max: 600_000,
    description:
      'on shutdown, first keep answering (each response closing its connection) until every connection has closed or this many ms passed',
  },
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'MARQUEE_LOG_LEVEL',
    kind: 'logLevel',
    description: `log level (${LOG_LEVELS.join(', ')})`,
  },
  {
    key: 'rateLimitPerMinute',
    flag: '--rate-limit',
    env: 'MARQUEE_RATE_LIMIT',
    kind: 'int',
    min: 0,
    max: 10_000_000,
    description: 'requests per minute per API key, else per IP (0: off)',
  },
  {
    key: 'corsOrigin',
    flag: '--cors-origin',
    env: 'MARQUEE_CORS_ORIGIN',
    kind: 'string',
    description: 'origins allowed by CORS, comma-separated, or * (default: CORS off)',
  },
  {
    key: 'hstsMaxAge',
    flag: '--hsts-max-age',
    env: 'MARQUEE_HSTS_MAX_AGE',
    kind: 'int',
    min: 0,
    max: 63_072_000,
    description: 'send Strict-Transport-Security with this max-age in seconds, behind HTTPS only (0: off)',
  },
  {
    key: 'maxEventLoopDelayMs',
    flag: '--max-event-loop-delay',
    env: 'MARQUEE_MAX_EVENT_LOOP_DELAY_MS',
    kind: 'int',
    min: 0,
    max: 60_000,
    description: 'event-loop delay in ms past which data requests get 503 (0: off)',
  },
  {
    key: 'watchDbMs',
    flag: '--watch-db',
    env: 'MARQUEE_WATCH_DB_MS',
    kind: 'int',
    min: 0,
    max: 3_600_000,
    description: 'hot-swap a newer database file: check every N ms and on file events (0: off)',
  },
  {
    key: 'authFailuresPerMinute',
    flag: '--auth-failures-per-minute',
    env: 'MARQUEE_AUTH_FAILURES_PER_MINUTE',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    description:
      'requests with an unknown API key per client address and minute, then 429 until the minute ends (0: no limit)',
  },
  {
    key: 'metricsAdminOnly',
    flag: '--metrics-admin-only',
    env: 'MARQUEE_METRICS_ADMIN_ONLY',
    kind: 'bool',
    description:
      'serve GET /metrics only to API keys with the admin role (a scraper sends one as a bearer token)',
  },
  {
    key: 'sqlEnabled',
    flag: '--enable-sql',
    env: 'MARQUEE_ENABLE_SQL',
    kind: 'bool',
    description: 'serve GET /sql: read-only SQL for API keys with the analyst or admin role',
  },
  {
    key: 'sqlRowLimit',
    flag: '--sql-row-limit',
    env: 'MARQUEE_SQL_ROW_LIMIT',
    kind: 'int',
    min: 1,
    max: 1_000_000,
    description: 'rows GET /sql returns at most (the answer says truncated)',
  },
  {
    key: 'webhookUrl',
    flag: '--webhook-url',
    env: 'MARQUEE_WEBHOOK_URL',
    kind: 'string',
    description:
      'POST a signed JSON notice to this http(s) URL when a new dataset generation goes live (needs --webhook-secret)',
  },
  {
    key: 'webhookSecret',
    flag: '--webhook-secret',
    env: 'MARQUEE_WEBHOOK_SECRET',
    kind: 'string',
    description:
      'the shared secret the webhook body is signed with (HMAC-SHA256), at least 16 characters; prefer the variable',
  },
  {
    key: 'historyGenerations',
    flag: '--history-generations',
    env: 'MARQUEE_HISTORY_GENERATIONS',
    kind: 'int',
    min: 1,
    max: 1000,
    description: 'ingest and update: how many generations of changes GET /changes keeps',
  },
  {
    key: 'historyDays',
    flag: '--history-days',
    env: 'MARQUEE_HISTORY_DAYS',
    kind: 'int',
    min: 0,
    max: 36_500,
    description: 'ingest and update: drop changes older than this many days (0: no limit by age)',
  },
]

/**
 * Settings of the PostgreSQL backend. Parsed and offered on the command line like SETTINGS; kept in
 * a table of their own until the README's generated configuration table lists them
 * (scripts/settings-table.ts, checked by test/readme.test.ts), then they belong in SETTINGS.
 */
export const BACKEND_SETTINGS: readonly SettingSpec[] = [
  {
    key: 'databaseUrl',
    flag: '--database-url',
    env: 'MARQUEE_DATABASE_URL',
    kind: 'string',
    description: 'serve from PostgreSQL instead of SQLite: postgres://user:password@host:port/database',
  },
  {
    key: 'databaseSchema',
    flag: '--database-schema',
    env: 'MARQUEE_DATABASE_SCHEMA',
    kind: 'string',
    description: "PostgreSQL: name of marquee's schemas, one namespace per installation (default marquee)",
  },
]

/** Every setting: what loadConfig reads and the CLI offers. */
export const ALL_SETTINGS: readonly SettingSpec[] = [...SETTINGS, ...BACKEND_SETTINGS]

export const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 8000,
  dbPath: 'data/marquee.db',
  dataDir: 'data/imdb',
  dataDirExplicit: false,
  sampleDir: 'data/sample',
  requireApiKey: false,
  apiKeysFile: null,
  usersDbPath: 'data/users.db',
  queryTimeoutMs: 2000,
  resultCacheMb: 32,
  poolSize: Math.max(2, availableParallelism()),
  inlineQueries: false,
  inlinePointLookups: true,
  shutdownTimeoutMs: 10_000,
  shutdownDrainMs: 1000,
  logLevel: 'info',
  rateLimitPerMinute: 0,
  corsOrigin: null,
  hstsMaxAge: 0,
  maxEventLoopDelayMs: 1000,
  watchDbMs: 2000,
  authFailuresPerMinute: 30,
  metricsAdminOnly: false,
  sqlEnabled: false,
  sqlRowLimit: 10_000,
  databaseUrl: null,
  databaseSchema: 'marquee',
  webhookUrl: null,
  webhookSecret: null,
  historyGenerations: 7,
  historyDays: 0,
}

export type ConfigInput = { [K in keyof Config]?: Config[K] | string }

function parseValue(spec: SettingSpec, raw: unknown, name: string): unknown {
  if (typeof raw !== 'string') {
    if (spec.kind === 'bool' && typeof raw === 'boolean') return raw
    if (spec.kind === 'int' && typeof raw === 'number') return checkInt(spec, raw, name)
    if ((spec.kind === 'string' || spec.kind === 'path' || spec.kind === 'logLevel') && raw === null)
      return null
    throw new ConfigError(name, `expected a ${spec.kind}, got ${JSON.stringify(raw)}`)
  }
  switch (spec.kind) {
    case 'string':
    case 'path':
      if (raw.trim() === '') throw new ConfigError(name, 'must not be empty')
      return raw
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `expected a whole number, got "${raw}"`)
      return checkInt(spec, Number(raw), name)
    }
    case 'bool': {
      const v = raw.trim().toLowerCase()
      if (['1', 'true', 'yes', 'on'].includes(v)) return true
      if (['0', 'false', 'no', 'off', ''].includes(v)) return false
      throw new ConfigError(name, `expected true or false, got "${raw}"`)
    }
    case 'logLevel':
      if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
        throw new ConfigError(name, `expected one of ${LOG_LEVELS.join(', ')}, got "${raw}"`)
      }
      return raw
  }
}

function checkInt(spec: SettingSpec, n: number, name: string): number {
  if (!Number.isSafeInteger(n)) throw new ConfigError(name, `expected a whole number, got ${n}`)
  if (spec.min !== undefined && n < spec.min)
    throw new ConfigError(name, `must be at least ${spec.min}, got ${n}`)
  if (spec.max !== undefined && n > spec.max)
    throw new ConfigError(name, `must be at most ${spec.max}, got ${n}`)
  return n
}

/**
 * Resolves the configuration: explicit values (CLI flags, or a test's overrides) win over
 * `MARQUEE_*` environment variables, which win over defaults. Throws ConfigError naming the setting.
 */
export function loadConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = { ...DEFAULTS }
  /** How the user named each setting that was given (flag or variable), for error messages. */
  const named = new Map<string, string>()
  for (const spec of ALL_SETTINGS) {
    const given = input[spec.key]
    if (given !== undefined) {
      out[spec.key] = parseValue(spec, given, spec.flag)
      named.set(spec.key, spec.flag)
    } else if (env[spec.env] !== undefined) {
      out[spec.key] = parseValue(spec, env[spec.env], spec.env)
      named.set(spec.key, spec.env)
    }
  }
  const url = out.databaseUrl as string | null
  if (url !== null && !/^postgres(?:ql)?:\/\//.test(url)) {
    throw new ConfigError(
      named.get('databaseUrl') ?? '--database-url',
      'expected a PostgreSQL URL: postgres://user:password@host:port/database',
    )
  }
  if (!/^[a-z_][a-z0-9_]{0,29}$/.test(out.databaseSchema as string)) {
    throw new ConfigError(
      named.get('databaseSchema') ?? '--database-schema',
      `expected 1-30 lower-case letters, digits or _ (not starting with a digit), got "${out.databaseSchema}"`,
    )
  }
  checkWebhook(out, named)
  out.dataDirExplicit = input.dataDir !== undefined || env.MARQUEE_DATA !== undefined
  // The user store lives next to the dataset database unless placed explicitly.
  if (input.usersDbPath === undefined && env.MARQUEE_USERS_DB === undefined) {
    out.usersDbPath = path.join(path.dirname(out.dbPath as string), 'users.db')
  }
  for (const key of ['dbPath', 'dataDir', 'sampleDir', 'apiKeysFile', 'usersDbPath'] as const) {
    const v = out[key]
    if (typeof v === 'string') out[key] = path.resolve(v)
  }
  return Object.freeze(out) as unknown as Config
}

/** Characters of a webhook secret at least: shorter ones are guessable from signed bodies. */
export const MIN_WEBHOOK_SECRET = 16

/**
 * The webhook's settings: an http(s) URL, and a secret with it. A URL without a secret is refused
 * rather than sent unsigned: the receiver could not tell marquee's notices from anyone's.
 */
function checkWebhook(out: Record<string, unknown>, named: Map<string, string>): void {
  const url = out.webhookUrl as string | null
  const secret = out.webhookSecret as string | null
  const urlName = named.get('webhookUrl') ?? '--webhook-url'
  const secretName = named.get('webhookSecret') ?? '--webhook-secret'
  if (url !== null) {
    let parsed: URL | null = null
    try {
      parsed = new URL(url)
    } catch {
      // Reported below.
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new ConfigError(urlName, `expected an http:// or https:// URL, got "${url}"`)
    }
    if (secret === null) {
      throw new ConfigError(
        urlName,
        'needs a secret to sign the notices with: set --webhook-secret (or MARQUEE_WEBHOOK_SECRET)',
      )
    }
  }
  if (secret !== null) {
    if (url === null) {
      throw new ConfigError(secretName, 'is set but --webhook-url (MARQUEE_WEBHOOK_URL) is not')
    }
    if (secret.length < MIN_WEBHOOK_SECRET) {
      throw new ConfigError(secretName, `must be at least ${MIN_WEBHOOK_SECRET} characters`)
    }
  }
}
