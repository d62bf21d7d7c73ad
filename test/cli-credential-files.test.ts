// `serve` with the directory source, fed hostile credential files one after another: a private
// key where the certificate belongs, a symlink to /etc/passwd, a FIFO, /dev/zero, a file past
// the size cap, a key writable by others. Each is refused and logged once with its code; the
// last good credentials stay; no byte of the files reaches /status, /metrics or the log; and a
// good file written afterwards is picked up again (the source never got stuck).
import { execFile, spawn } from 'node:child_process'
import { chmod, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { stringify } from 'yaml'
import { baseDoc, edit, rootPem } from '../src/config/testing/config-fixtures.ts'
import { makeDomain, makeSvid, tempDir, writeCredentials } from './tls-fixtures.ts'

const run = promisify(execFile)
const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const TD = 'demo-pool.global.123456789012.workload.id.goog'

async function waitFor (what: () => boolean | Promise<boolean>, label: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Replaces `file` at once (write aside, then rename), the way agents and secret mounts update. */
async function replace (file: string, text: string, mode = 0o600): Promise<void> {
  await writeFile(`${file}.tmp`, text)
  await chmod(`${file}.tmp`, mode)
  await rename(`${file}.tmp`, file)
}

t.test('hostile credential files are refused, logged once each, and never echoed', async (t) => {
  const dir = await tempDir(t)
  const creds = join(dir, 'creds')
  await run('mkdir', ['-p', creds])
  const own = await makeDomain(TD)
  const svid = await makeSvid(own, '/ns/lb/sa/frontend')
  await writeCredentials(creds, svid, [own.bundle])
  const good = {
    cert: svid.chainPem(),
    key: svid.privateKeyPem(),
    bundles: JSON.stringify({ trust_domains: { [TD]: own.bundle.toJwks(1) } })
  }
  await chmod(join(creds, 'private_key.pem'), 0o644) // readable by others: a warning, not a refusal
  const config = join(dir, 'config.yaml')
  await writeFile(config, stringify(edit(baseDoc(await rootPem()),
    [['credentials'], { source: 'directory', directory: creds }],
    [['frontend'], { listen: '127.0.0.1:0' }],
    [['admin'], { listen: '127.0.0.1:0' }])))

  const child = spawn(process.execPath, [main, 'serve', '-c', config, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  t.teardown(() => { child.kill('SIGKILL') })
  await waitFor(() => /admin listening on (http:[^\s"]+)/.test(output) || child.exitCode !== null, 'serve to listen')
  const admin = /admin listening on (http:[^\s"]+)/.exec(output)?.[1] ?? ''
  t.ok(admin, output)
  // The log destination is buffered (flushed every second), so the warning may follow the listen lines.
  const warned = /private_key\.pem.*is readable by other users \(mode 0644\)/
  await waitFor(() => warned.test(output) || child.exitCode !== null, 'the key-mode warning').catch(() => {})
  t.match(output, warned, 'a key readable by others is warned about')

  const status = async (): Promise<string> => await (await fetch(`${admin}/status`)).text()
  const lastError = async (): Promise<string | undefined> =>
    (JSON.parse(await status()) as { identity?: { lastError?: string } }).identity?.lastError
  const refused = async (label: string, code: string, pattern?: RegExp): Promise<string> => {
    await waitFor(async () => (await lastError())?.startsWith(code) === true, `${label} to be refused with ${code}`)
      .catch((e: Error) => { throw new Error(`${e.message}\n${output}`) })
    const err = await lastError() ?? ''
    if (pattern !== undefined) t.match(err, pattern, `${label}: ${err}`)
    t.equal((await fetch(`${admin}/readyz`)).status, 200, `${label}: still ready on the last good credentials`)
    return err
  }
  const recovered = async (label: string): Promise<void> => {
    await waitFor(async () => (await lastError()) === undefined, `recovery after ${label}`)
    t.pass(`${label}: the next read after the fix was accepted`)
  }
  const certFile = join(creds, 'certificates.pem')
  const bundleFile = join(creds, 'trust_bundles.json')
  const keyFile = join(creds, 'private_key.pem')

  // 1. A private key where the certificate belongs.
  await replace(certFile, good.key)
  await refused('a key as certificates.pem', 'ERR_SPIFFE_SVID_NO_CERTIFICATE', /pem blocks: "PRIVATE KEY"/)
  const body = good.key.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')
  const seen = `${await status()}\n${await (await fetch(`${admin}/metrics`)).text()}\n${output}`
  const leaked = Array.from({ length: body.length - 11 }, (_, i) => body.slice(i, i + 12)).filter((s) => seen.includes(s))
  t.same(leaked, [], 'no 12-character run of the key appears in /status, /metrics or the log')
  await replace(certFile, good.cert, 0o644)
  await recovered('the key as certificate')

  // 2. A symlink to /etc/passwd.
  await rm(certFile)
  await symlink('/etc/passwd', certFile)
  const passwd = await refused('certificates.pem -> /etc/passwd', 'ERR_SPIFFE_SVID_NOT_PEM', /bytes, no pem block/)
  t.notMatch(passwd, /root|nologin|bin/, 'nothing of /etc/passwd is quoted')
  await replace(certFile, good.cert, 0o644)
  await recovered('/etc/passwd')

  // 3. A FIFO as trust_bundles.json: refused at once, without waiting for a writer.
  await rm(bundleFile)
  await run('mkfifo', [bundleFile])
  await refused('a fifo as trust_bundles.json', 'ERR_SPIFFE_CREDENTIALS_FILE_NOT_REGULAR', /trust_bundles\.json.* is a fifo/)
  await rm(bundleFile)
  await replace(bundleFile, good.bundles, 0o644)
  await recovered('the fifo')

  // 4. /dev/zero: a character device, refused before reading a byte.
  await rm(certFile)
  await symlink('/dev/zero', certFile)
  await refused('certificates.pem -> /dev/zero', 'ERR_SPIFFE_CREDENTIALS_FILE_NOT_REGULAR', /symlink to "\/dev\/zero"\) is a character device/)
  await rm(certFile)
  await replace(certFile, good.cert, 0o644)
  await recovered('/dev/zero')

  // 5. A regular file past the 1 MiB cap.
  await replace(certFile, good.cert + 'x'.repeat(2 * 1024 * 1024), 0o644)
  await refused('a 2 MiB certificates.pem', 'ERR_SPIFFE_CREDENTIALS_FILE_TOO_LARGE', /larger than 1048576 bytes/)
  await replace(certFile, good.cert, 0o644)
  await recovered('the oversized file')

  // 6. A private key others may write: refused.
  await replace(keyFile, good.key, 0o666)
  await refused('a world-writable private_key.pem', 'ERR_SPIFFE_CREDENTIALS_KEY_FILE_WRITABLE', /writable by other users \(mode 0666\)/)
  await replace(keyFile, good.key, 0o600)
  await recovered('the writable key')

  const expected = ['ERR_SPIFFE_SVID_NO_CERTIFICATE', 'ERR_SPIFFE_SVID_NOT_PEM', 'ERR_SPIFFE_CREDENTIALS_FILE_NOT_REGULAR',
    'ERR_SPIFFE_CREDENTIALS_FILE_TOO_LARGE', 'ERR_SPIFFE_CREDENTIALS_KEY_FILE_WRITABLE']
  const logged = (): string[] => output.split('\n').filter((l) => l.includes('credential update rejected'))
    .map((l) => (JSON.parse(l) as { code: string }).code)
  // The log destination is buffered and flushed every second: wait for the last lines to arrive.
  await waitFor(() => expected.every((c) => logged().includes(c)), 'every rejection to be logged').catch(() => {})
  const codes = logged()
  for (const code of expected) {
    t.ok(codes.includes(code), `a rejection with ${code} was logged`)
  }
  t.equal(codes.filter((c) => c === 'ERR_SPIFFE_CREDENTIALS_FILE_NOT_REGULAR').length, 2, 'each rejected update logged once, not once per retry')
  child.kill('SIGTERM')
})
