import { spawn } from 'node:child_process'
import { CLI } from '../helpers/cli.js'

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the real CLI in a child process (compiled, or through tsx: see helpers/cli.ts). */
export function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env }
    for (const k of Object.keys(env)) if (k.startsWith('MARQUEE_')) delete env[k]
    const child = spawn(process.execPath, [...CLI, ...args], {
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
