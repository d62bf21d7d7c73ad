import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDemoWorld, demoConfigYaml } from '../src/testbed/up-world.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname

function cli (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? null, stdout, stderr })
    })
  })
}

t.test('a port in use is one coded line and exit 2 for serve, serve --workers, backend and up', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-inuse-'))
  const holder: Server = createServer()
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    holder.close()
    await rm(dir, { recursive: true, force: true })
  })
  const port = (holder.address() as AddressInfo).port
  const world = await createDemoWorld(join(dir, 'world'), Date.now())
  const config = join(dir, 'config.yaml')
  await writeFile(config, demoConfigYaml(world, new Map(world.backends.map((b, i) => [b.name, 19443 + i])), { proxyPort: port, adminPort: 0 }))
  const backend = world.backends[0]
  if (backend === undefined) throw new Error('the demo world has backends')
  const cases: Array<[string, string[]]> = [
    ['serve', ['serve', '-c', config]],
    ['serve --workers 2', ['serve', '-c', config, '--workers', '2']],
    ['backend', ['backend', '--listen', `127.0.0.1:${port}`, '--cert', backend.certFile, '--key', backend.keyFile, ...backend.bundles.flatMap((b) => ['--bundle', b])]],
    ['up', ['up', '--dir', join(dir, 'up'), '--port', String(port), '--admin-port', '0']]
  ]
  for (const [name, args] of cases) {
    const res = await cli(args)
    t.equal(res.code, 2, `${name}: exit 2\n${res.stderr}`)
    t.match(res.stderr, new RegExp(`^spiffe-lb: ERR_SPIFFE_SERVE_ADDRESS_IN_USE: address "127\\.0\\.0\\.1:${port}" is already in use`, 'm'), name)
    t.notMatch(res.stderr, /^\s+at /m, `${name}: no stack trace`)
  }
})
