#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander'
import pkg from '../../package.json' with { type: 'json' }
import { ConfigError } from '../config.js'
import { ROLES } from '../users/api-keys.js'
import { EXIT } from './exit-codes.js'
import { addSettingOptions, parseDatasetList, parsePositiveInt } from './options.js'

/** Every subcommand's action lives in its own module, loaded only when that command runs. */
type Action = (opts: Record<string, unknown>) => Promise<number>
const run = (load: () => Promise<{ default: Action }>) => async (opts: Record<string, unknown>) => {
  const action = (await load()).default
  process.exitCode = await action(opts)
}

function buildCli(): Command {
  const program = new Command('marquee')
    .description("A fast, self-hosted HTTP API over IMDb's non-commercial datasets")
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()

  addSettingOptions(
    program
      .command('serve')
      .description('Serve the API (builds the bundled sample dataset first when no database exists)'),
    [
      'host',
      'port',
      'dbPath',
      'dataDir',
      'sampleDir',
      'requireApiKey',
      'apiKeysFile',
      'usersDbPath',
      'queryTimeoutMs',
      'resultCacheMb',
      'poolSize',
      'inlinePointLookups',
      'shutdownTimeoutMs',
      'logLevel',
      'rateLimitPerMinute',
      'corsOrigin',
      'hstsMaxAge',
      'maxEventLoopDelayMs',
      'watchDbMs',
      'sqlEnabled',
      'sqlRowLimit',
      'databaseUrl',
      'databaseSchema',
      'webhookUrl',
      'webhookSecret',
    ],
  )
    .addOption(
      new Option(
        '--workers <n>',
        'server processes sharing the port (node:cluster); a crashed one is replaced',
      )
        .argParser(parsePositiveInt)
        .default(1),
    )
    .action((opts: Record<string, unknown>) =>
      run(() => (Number(opts.workers) > 1 ? import('./cluster.js') : import('./serve.js')))(opts),
    )

  addSettingOptions(
    program
      .command('ingest')
      .description(
        'Load the IMDb .tsv.gz files into a new SQLite database (or PostgreSQL schema), swapped in atomically',
      ),
    ['dbPath', 'dataDir', 'databaseUrl', 'databaseSchema', 'historyGenerations', 'historyDays'],
  )
    .addOption(
      new Option('--only <names>', 'load only these files (comma-separated)').argParser(parseDatasetList),
    )
    .option('--strict', 'fail on the first malformed line instead of skipping it')
    .action(run(() => import('./ingest.js')))

  program
    .command('sample')
    .description('Write a deterministic IMDb-format sample dataset (all seven .tsv.gz files)')
    .addOption(new Option('--titles <n>', 'number of titles').argParser(parsePositiveInt).default(20_000))
    .addOption(new Option('--out <dir>', 'output directory').default('data/sample'))
    .addOption(new Option('--seed <n>', 'random seed').argParser(parsePositiveInt).default(1))
    .action(run(() => import('./sample.js')))

  program
    .command('download')
    .description('Download the IMDb dataset files (conditional, resumable, verified)')
    .addOption(
      new Option('--dir <dir>', 'where to put the files [default: the data directory, env MARQUEE_DATA]'),
    )
    .addOption(
      new Option('--only <names>', 'download only these files (comma-separated)').argParser(parseDatasetList),
    )
    .addOption(
      new Option(
        '--base-url <url>',
        'dataset base URL; repeat for mirrors (the first to answer wins)',
      ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    )
    .addOption(
      new Option('--concurrency <n>', 'files downloaded at once').argParser(parsePositiveInt).default(3),
    )
    .action(run(() => import('./download.js')))

  addSettingOptions(
    program
      .command('update')
      .description(
        'Download, then refresh the database from the new files: only the changed rows (or rebuild with --full)',
      ),
    ['dbPath', 'dataDir', 'historyGenerations', 'historyDays'],
  )
    .option('--full', 'rebuild the whole database instead of applying only the changes')
    .option('--skip-download', 'use the files already in the data directory (also when --data is given)')
    .addOption(
      new Option(
        '--base-url <url>',
        'dataset base URL; repeat for mirrors (the first to answer wins) [env MARQUEE_DOWNLOAD_BASE_URL]',
      ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    )
    .addOption(
      new Option('--concurrency <n>', 'files downloaded at once').argParser(parsePositiveInt).default(3),
    )
    .action(run(() => import('./update.js')))

  const keys = program
    .command('keys')
    .description('Manage API keys in the user store (--users-db): create, list, revoke')
  addSettingOptions(
    keys
      .command('create')
      .description('Create a key and print it once (only its SHA-256 is stored)')
      .requiredOption('--name <name>', 'who the key is for')
      .addOption(new Option('--role <role>', 'what the key may do').choices(ROLES).default('user')),
    ['usersDbPath', 'databaseUrl', 'databaseSchema'],
  ).action(run(() => import('./keys.js').then((m) => ({ default: m.create }))))
  addSettingOptions(keys.command('list').description('List the keys: id, name, role, created, revoked'), [
    'usersDbPath',
    'databaseUrl',
    'databaseSchema',
  ])
    .option('--json', 'print JSON')
    .action(run(() => import('./keys.js').then((m) => ({ default: m.list }))))
  addSettingOptions(
    keys
      .command('revoke')
      .description('Revoke a key; running servers stop accepting it within seconds')
      .argument('<id>', 'the key id (see keys list)', parsePositiveInt),
    ['usersDbPath', 'databaseUrl', 'databaseSchema'],
  ).action((id: number, opts: Record<string, unknown>) =>
    run(() => import('./keys.js').then((m) => ({ default: m.revoke })))({ ...opts, id }),
  )

  return program
}

/** Runs the CLI; usage errors exit 2, configuration errors name the setting and exit 2. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE
      return
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`marquee: ${err.message}\n`)
      process.exitCode = EXIT.USAGE
      return
    }
    process.stderr.write(`marquee: ${(err as Error).message ?? err}\n`)
    process.exitCode = EXIT.FAILURE
  }
}

await main(process.argv)
