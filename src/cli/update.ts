import { EXIT } from './exit-codes.js'

export default async function update(_opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('marquee update: not implemented yet\n')
  return EXIT.FAILURE
}
