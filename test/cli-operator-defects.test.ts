// What an operator meets first on the command line: an unknown option is named before a
// missing required one; an unsupported flag of `up` is a usage error; a credential file the
// process may not read names the uid that needs access; a YAML syntax error comes alone, with
// its line and column.
import t from 'tap'
import { execFile } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname

function cli (args: string[], opts: { uid?: number, gid?: number, env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { timeout: 60_000, ...opts }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? null, stdout, stderr })
    })
  })
}

t.test('serve --bogus: the unknown option first, one line, exit 2', async (t) => {
  for (const args of [['serve', '--bogus'], ['serve', '--bogus', '-c', 'x.yaml']]) {
    const r = await cli(args)
    t.equal(r.code, 2, args.join(' '))
    t.equal(r.stderr, 'spiffe-lb: ERR_SPIFFE_CLI_USAGE: unknown option \'--bogus\' (see spiffe-lb serve --help)\n', args.join(' '))
  }
})

t.test('up --read-only (an unsupported flag) is a usage error', async (t) => {
  const r = await cli(['up', '--read-only'])
  t.equal(r.code, 2)
  t.equal(r.stderr, 'spiffe-lb: ERR_SPIFFE_CLI_USAGE: unknown option \'--read-only\' (see spiffe-lb up --help)\n')
  t.notMatch(r.stderr + r.stdout, /ENOENT|ERR_SPIFFE_CLI_UNEXPECTED/)
})

t.test('a YAML syntax error is reported alone, with line and column', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-syntax-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'config.yaml')
  await writeFile(file, 'backendServices:\n  - name: web\n    backends: [ { endpoints: ["a:1"] }\n  - name: x\n    tlsSettings: { identity: "spiffe://example.org/x }\nfrontend: { listen: "127.0.0.1:0"\n')
  const r = await cli(['serve', '--check', '-c', file])
  t.equal(r.code, 2)
  const lines = r.stderr.trim().split('\n')
  t.equal(lines.length, 2, r.stderr)
  t.match(lines[0], /^.*config\.yaml: not valid yaml at line \d+, column \d+: .* \(ERR_SPIFFE_CONFIG_SYNTAX\)$/)
  t.match(lines[1], /config invalid: .*: 1 error$/)
})

t.test('EACCES on a credential file names the uid that needs read access', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-eacces-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await chmod(dir, 0o755)
  const ok = async (...args: string[]): Promise<void> => {
    const r = await cli(args)
    if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`)
  }
  await ok('ca', 'create-root', '--out', join(dir, 'ca'))
  await ok('svid', 'issue', '--ca', join(dir, 'ca'), '--id', 'spiffe://example.org/ns/lb/sa/frontend', '--out', join(dir, 'creds'))
  await chmod(join(dir, 'creds'), 0o755)
  const config = join(dir, 'config.yaml')
  await writeFile(config, 'backendServices:\n  - name: web\n    tlsSettings: { identity: "spiffe://example.org/ns/lb/sa/frontend" }\n    backends: [{ endpoints: ["127.0.0.1:1"] }]\ncredentials: { source: directory, directory: creds }\n', { mode: 0o644 })
  // root reads every file: run the check as another user; a normal user loses the permission instead.
  const root = process.getuid?.() === 0
  // (tap's coverage hook in NODE_OPTIONS would try to write its own files as that user)
  const as = root ? { uid: 65534, gid: 65534, env: { ...process.env, NODE_OPTIONS: '' } } : {}
  if (!root) await chmod(join(dir, 'creds', 'private_key.pem'), 0o000)
  const r = await cli(['serve', '--check', '-c', config], as)
  t.equal(r.code, 2, r.stderr)
  const uid = root ? 65534 : process.getuid?.()
  t.match(r.stderr, new RegExp(`cannot read credential file ".*private_key\\.pem" \\(EACCES\\): this process runs as uid ${uid} \\(gid \\d+\\), which needs read access to the file.*\\(ERR_SPIFFE_CREDENTIALS_FILE_UNREADABLE\\)`))
})
