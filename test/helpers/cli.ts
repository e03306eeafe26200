import path from 'node:path'
import { fileURLToPath } from 'node:url'

// `npm test` runs the tests compiled (dist/test, beside dist/src); a single file can also run from
// source under tsx (`node --import tsx --test test/x.test.ts`). Children follow the tests' form.
const compiled = import.meta.url.endsWith('.js')

/** The checkout's root. */
export const ROOT = fileURLToPath(new URL(compiled ? '../../../' : '../../', import.meta.url))

/** Node's arguments that run the real `marquee` command, before the command's own. */
export const CLI = compiled
  ? [path.join(ROOT, 'dist/src/cli/main.js')]
  : ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')]
