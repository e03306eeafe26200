import { EXIT } from './exit-codes.js'

export default async function download(_opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('marquee download: not implemented yet\n')
  return EXIT.FAILURE
}
