import { spawn } from 'node:child_process'
import path from 'node:path'

const MAIN = path.resolve('src/cli/main.ts')

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the real CLI in a child process (through tsx, as `npm run marquee` does). */
export function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env }
    for (const k of Object.keys(env)) if (k.startsWith('MARQUEE_')) delete env[k]
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
