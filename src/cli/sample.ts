import { EXIT } from './exit-codes.js'

export default async function sample(_opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('marquee sample: not implemented yet\n')
  return EXIT.FAILURE
}
