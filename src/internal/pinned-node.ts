// Loaded by cli/main.ts when an older Node started the bin: keep it to Node 20's syntax and APIs.
import { spawn, spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { constants } from 'node:os'

/**
 * Returns the path of the `node` package's binary that module `from` resolves (the project's
 * dev dependency, `node_modules/node/bin/node`) when it runs Node.js `major`, else undefined.
 */
export function pinnedNode (from: string, major: number): string | undefined {
  let bin: string
  try {
    bin = createRequire(from).resolve('node/bin/node')
  } catch {
    return undefined
  }
  const probe = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' })
  return probe.status === 0 && Number(probe.stdout.trim().split('.')[0]) === major ? bin : undefined
}

/**
 * Runs `node args…` under `bin` with this process's stdio and environment, passing on the
 * signals a supervisor sends (SIGTERM drains, SIGHUP reloads); returns the child's exit code
 * (128 + signal number when a signal ended it; 2 after `onError` when it could not start).
 */
export async function runUnder (bin: string, args: readonly string[], onError: (message: string) => void): Promise<number> {
  const child = spawn(bin, [...process.execArgv, ...args], { stdio: 'inherit' })
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP']
  const forward = (sig: NodeJS.Signals): void => { child.kill(sig) }
  for (const sig of signals) process.on(sig, forward)
  return await new Promise((resolve) => {
    child.once('error', (err) => {
      onError(`cannot start ${bin}: ${err.message}`)
      resolve(2)
    })
    child.once('exit', (code, signal) => {
      for (const sig of signals) process.off(sig, forward)
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]))
    })
  })
}
