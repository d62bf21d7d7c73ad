// Test support: builds a Go program under test/go/ offline against Debian's packaged grpc-go and
// protobuf (GOPATH mode, no module proxy), cached by a hash of its sources in the temp dir.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const GO_DIR = new URL('./go/', import.meta.url).pathname

/** Returns why Go programs cannot be built here, or undefined when `go` and the packages are present. */
export function goUnavailable (): string | undefined {
  const which = ['/usr/bin/go', '/usr/lib/go/bin/go'].find((p) => existsSync(p))
  if (which === undefined) return 'go is not installed (apt-get install golang-go golang-google-grpc-dev golang-google-protobuf-dev)'
  if (!existsSync('/usr/share/gocode/src/google.golang.org/grpc')) return 'golang-google-grpc-dev is not installed'
  if (!existsSync('/usr/share/gocode/src/google.golang.org/protobuf')) return 'golang-google-protobuf-dev is not installed'
  return undefined
}

/** Builds `test/go/<name>` (or reuses the cached binary for the same sources); returns its path. */
export async function buildGoProgram (name: string): Promise<string> {
  const dir = join(GO_DIR, name)
  const hash = createHash('sha256')
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.go')).sort()) hash.update(f).update(readFileSync(join(dir, f)))
  const root = join(tmpdir(), 'spiffe-lb-go')
  const bin = join(root, `${name}-${hash.digest('hex').slice(0, 16)}`)
  if (existsSync(bin)) return bin
  mkdirSync(join(root, 'gopath'), { recursive: true })
  const partial = `${bin}.${process.pid}.tmp`
  await run('go', ['build', '-o', partial, '.'], {
    cwd: dir,
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: `${join(root, 'gopath')}:/usr/share/gocode`,
      GOPROXY: 'off',
      GOFLAGS: '',
      GOCACHE: join(root, 'cache')
    },
    timeout: 300_000
  })
  // Rename is atomic: a concurrent test file building the same program never runs a half-written binary.
  renameSync(partial, bin)
  return bin
}
