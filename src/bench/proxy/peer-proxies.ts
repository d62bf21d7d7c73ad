/**
 * Starts the peer baselines of `bench proxy` (nginx, HAProxy) as child processes with generated
 * configs (peer-configs.ts) in the run's temporary directory. A peer whose binary is absent is
 * skipped with a note, never an error: CI installs both, a laptop may have neither.
 */
import { accessSync, constants } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { delimiter, join } from 'node:path'
import { startChild } from '../child-process.ts'
import type { BenchChild } from '../child-process.ts'
import { haproxyConfig, nginxConfig } from './peer-configs.ts'
import type { PeerConfigInput, PeerName } from './peer-configs.ts'
import { formatHostPort } from '../../internal/host-port.ts'

/** Debian installs both into sbin, which a non-root PATH often lacks. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin']

/** Returns the absolute path of executable `name` on PATH (or in sbin), undefined when absent. */
export function findExecutable (name: string, path: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter).filter((d) => d !== ''), ...EXTRA_DIRS]) {
    const file = join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch { /* not here */ }
  }
  return undefined
}

/** Returns the peers whose binaries exist and, for the others, why they are skipped. */
export function availablePeers (wanted: readonly PeerName[]): { found: Map<PeerName, string>, notes: string[] } {
  const found = new Map<PeerName, string>()
  const notes: string[] = []
  for (const name of wanted) {
    const file = findExecutable(name)
    if (file === undefined) notes.push(`${name} skipped: no \`${name}\` executable on PATH or in /usr/sbin (Debian: apt-get install ${name === 'nginx' ? 'nginx-light' : 'haproxy'})`)
    else found.set(name, file)
  }
  return { found, notes }
}

/** Returns a loopback port that was free a moment ago (nginx and HAProxy cannot report port 0). */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  return port
}

/** What {@link startPeer} needs besides the config input's port and folder. */
export type PeerStartInput = Omit<PeerConfigInput, 'listenPort' | 'dir'> & { dir: string }

/**
 * Writes the config of `name` for `input.mode` into a folder of its own under `input.dir` and
 * starts the peer in the foreground; resolves with the child and its `HOST:PORT` once it has
 * bound its listener (nginx: "start worker process", HAProxy master-worker: "Loading success").
 */
export async function startPeer (name: PeerName, executable: string, input: PeerStartInput,
  start: (name: string, command: string, args: string[], ready: RegExp) => Promise<BenchChild> = defaultStart): Promise<{ child: BenchChild, address: string }> {
  const dir = join(input.dir, `${name}-${input.mode}`)
  await mkdir(dir, { recursive: true })
  const listenPort = await freePort()
  const config: PeerConfigInput = { ...input, dir, listenPort }
  const file = join(dir, `${name}.conf`)
  if (name === 'nginx') {
    await writeFile(file, nginxConfig(config))
    const child = await start(`nginx (${input.mode})`, executable, ['-p', dir, '-c', file], /start worker process/)
    return { child, address: formatHostPort('127.0.0.1', listenPort) }
  }
  await writeFile(file, haproxyConfig(config))
  const child = await start(`haproxy (${input.mode})`, executable, ['-W', '-db', '-f', file], /Loading success/)
  return { child, address: formatHostPort('127.0.0.1', listenPort) }
}

async function defaultStart (name: string, command: string, args: string[], ready: RegExp): Promise<BenchChild> {
  return await startChild({ name, command, args, ready })
}
