import { EXIT } from './exit-codes.js'

export default async function ingest(_opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('marquee ingest: not implemented yet\n')
  return EXIT.FAILURE
}
