/**
 * The URL of a worker entry file next to `from`: `.ts` when running from source under tsx
 * (workers inherit the `--import tsx` loader through execArgv), `.js` when running from `dist/`.
 */
export function workerUrl(relative: string, from: string): URL {
  const ext = from.endsWith('.ts') ? '.ts' : '.js'
  return new URL(relative.replace(/\.[jt]s$/, '') + ext, from)
}
