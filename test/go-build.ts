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

/** Where a Go toolchain may be: Debian's golang-go, or an upstream one in /usr/local/go. */
const GO_BINARIES = ['/usr/bin/go', '/usr/lib/go/bin/go', '/usr/local/go/bin/go']

/** Returns why Go programs cannot be built here, or undefined when `go` and the packages are present. */
export function goUnavailable (): string | undefined {
  const which = GO_BINARIES.find((p) => existsSync(p))
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

/**
 * Returns why a Go module program (test/go/<name> with its own go.mod) cannot be built here, or
 * undefined: it needs `go` and a module proxy (`go env GOPROXY` not "off").
 */
export async function goModulesUnavailable (): Promise<string | undefined> {
  const which = GO_BINARIES.find((p) => existsSync(p))
  if (which === undefined) return 'go is not installed'
  const { stdout } = await run('go', ['env', 'GOPROXY'])
  if (stdout.trim() === '' || stdout.trim() === 'off') return 'no Go module proxy (go env GOPROXY is off)'
  return undefined
}

/**
 * Builds the Go module `test/go/<name>` (its go.mod and go.sum pin the versions): `go mod
 * download` from the module proxy into the user's module cache, then `go build`. The binary is
 * cached under the temp dir by a hash of go.mod, go.sum and the sources, so reruns (and CI
 * reruns on one machine) reuse it; returns its path.
 */
export async function buildGoModule (name: string): Promise<string> {
  const dir = join(GO_DIR, name)
  const hash = createHash('sha256')
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum').sort()) hash.update(f).update(readFileSync(join(dir, f)))
  const root = join(tmpdir(), 'spiffe-lb-go')
  const bin = join(root, `${name}-${hash.digest('hex').slice(0, 16)}`)
  if (existsSync(bin)) return bin
  mkdirSync(root, { recursive: true })
  const env = { ...process.env, GO111MODULE: 'on', GOFLAGS: '-mod=readonly', GOCACHE: join(root, 'cache') }
  await run('go', ['mod', 'download'], { cwd: dir, env, timeout: 300_000 })
  const partial = `${bin}.${process.pid}.tmp`
  await run('go', ['build', '-o', partial, '.'], { cwd: dir, env, timeout: 300_000 })
  renameSync(partial, bin)
  return bin
}
