import path from 'node:path'
import { generateSample } from '../datasets/sample/generator.js'
import { reportFailure } from './errors.js'
import { EXIT } from './exit-codes.js'

export default async function sample(opts: Record<string, unknown>): Promise<number> {
  const out = path.resolve(String(opts.out))
  const started = performance.now()
  try {
    const summary = await generateSample({ titles: Number(opts.titles), out, seed: Number(opts.seed) })
    for (const f of summary.files) {
      process.stdout.write(
        `${f.file.padEnd(26)} ${String(f.rows).padStart(11)} rows ${(f.bytes / 1e6).toFixed(1).padStart(8)} MB\n`,
      )
    }
    const secs = ((performance.now() - started) / 1000).toFixed(1)
    process.stdout.write(
      `${summary.rows} rows, ${(summary.bytes / 1e6).toFixed(1)} MB in ${out} (${secs} s)\n`,
    )
    return EXIT.OK
  } catch (err) {
    if (err instanceof RangeError) {
      process.stderr.write(`marquee sample: ${err.message}\n`)
      return EXIT.USAGE
    }
    return reportFailure('sample', err)
  }
}
