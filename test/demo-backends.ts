// Test support: the demo world (CA, pool, trusted / partner / untrusted backends) in a temporary
// directory, with every backend running on a free loopback port.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { startBackendCommand, type RunningBackend } from '../src/testbed/backend-starter.ts'
import { createDemoWorld, type DemoWorld } from '../src/testbed/up-world.ts'

const quiet = new Writable({ write (_c, _e, done) { done() } })

export interface DemoBackends {
  dir: string
  world: DemoWorld
  /** Backend name → the port it listens on. */
  ports: Map<string, number>
  /** Stops every backend and removes the directory. */
  stop: () => Promise<void>
}

/** Creates the demo world under a new temporary directory named `prefix…` and starts its backends. */
export async function startDemoBackends (prefix: string): Promise<DemoBackends> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  const world = await createDemoWorld(dir, Date.now())
  const backends: RunningBackend[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(backends.map(async (b) => { await b.stop() }))
    await rm(dir, { recursive: true, force: true })
  }
  const ports = new Map<string, number>()
  try {
    for (const b of world.backends) {
      const running = await startBackendCommand({ listen: '127.0.0.1:0', cert: b.certFile, key: b.keyFile, bundle: b.bundles, name: b.name }, { stdout: quiet, stderr: quiet })
      backends.push(running)
      ports.set(b.name, running.backend.port)
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { dir, world, ports, stop }
}
