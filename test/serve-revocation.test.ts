// Revocation inside `serve`: the local CA pool's CRL (`ca revoke`) applies to its trust domain on
// its own and retires a pooled connection to the revoked backend; a CRL made by `openssl ca`
// named in the config's revocation block works too; a stale CRL fails closed by default and
// admits with a warning under fail-open; /status shows each domain's CRLs.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startDemoBackends } from './demo-backends.ts'
import { demoConfigYaml } from '../src/testbed/up-world.ts'
import { loadCaDir } from '../src/control/ca-layout.ts'
import { createCrl } from '../src/pki/crl.ts'

const run = promisify(execFile)
const main = new URL('../src/cli/main.ts', import.meta.url).pathname

async function get (url: string): Promise<{ status: number, body: string }> {
  const res = await fetch(url)
  return { status: res.status, body: await res.text() }
}

async function waitFor (what: () => boolean | Promise<boolean>, label: string, output: () => string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!await what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}; output:\n${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function cli (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [main, ...args])
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

/** Starts `serve -c config`; returns its proxy and admin urls and its output so far. */
async function serve (t: { teardown: (fn: () => void) => void }, config: string, ...args: string[]): Promise<{ proxy: string, admin: string, output: () => string }> {
  const child = spawn(process.execPath, [main, 'serve', '-c', config, '--log-level', 'warn', '--drain-timeout', '1s', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  t.teardown(() => { child.kill('SIGKILL') })
  await waitFor(() => /proxy listening on (http:[^\s"]+)/.test(output) && /admin listening on (http:[^\s"]+)/.test(output), 'serve to listen', () => output)
  return {
    proxy: /proxy listening on (http:[^\s"]+)/.exec(output)?.[1] ?? '',
    admin: /admin listening on (http:[^\s"]+)/.exec(output)?.[1] ?? '',
    output: () => output
  }
}

const { dir, world, ports, stop } = await startDemoBackends('spiffe-lb-revoke-')
t.teardown(stop)
const idOf = (name: string): string => world.backends.find((b) => b.name === name)?.spiffeId ?? ''
const certOf = (name: string): string => world.backends.find((b) => b.name === name)?.certFile ?? ''
// No active health checks: what a request meets is decided by the connector alone.
const base = demoConfigYaml(world, ports, { proxyPort: 0, adminPort: 0 }).replace(/^ {4}healthCheck: .*\n/gm, '')
const poolCa = join(world.stateDir, 'ca-pools', 'root-pool')
const TD = world.backends[0]?.trustDomain ?? ''

t.test('ca revoke applies to the pool domain at once: the revoked backend is refused, the other served', async (t) => {
  const openssl = join(dir, 'openssl')
  await run('mkdir', ['-p', openssl])
  const cnf = join(openssl, 'ca.cnf')
  await writeFile(join(openssl, 'index.txt'), '')
  await writeFile(join(openssl, 'crlnumber'), '01\n')
  await writeFile(cnf, `[ ca ]\ndefault_ca = d\n[ d ]\ndatabase = ${join(openssl, 'index.txt')}\ncrlnumber = ${join(openssl, 'crlnumber')}\ndefault_md = sha256\ndefault_crl_days = 1\n`)
  const key = ['-config', cnf, '-cert', join(poolCa, 'ca.pem'), '-keyfile', join(poolCa, 'ca.key.pem')]
  const opensslCrl = join(openssl, 'crl.pem')
  await run('openssl', ['ca', ...key, '-gencrl', '-out', opensslCrl])

  const config = join(dir, 'config.yaml')
  await writeFile(config, `${base}revocation:\n  trustDomains:\n    ${TD}: { crlFiles: [${opensslCrl}] }\n`)
  const { proxy, admin, output } = await serve(t, config)
  const selves = async (n: number): Promise<string[]> => {
    const out: string[] = []
    for (let i = 0; i < n; i++) {
      const r = await get(`${proxy}/hello`)
      out.push(r.status === 200 ? (JSON.parse(r.body) as { self: string }).self : `${r.status} ${r.body}`)
    }
    return out
  }
  t.same(new Set(await selves(4)), new Set([idOf('backend-1'), idOf('backend-2')]), 'both backends answer (pooled connections to both)')

  const revoke = await cli('ca', 'revoke', '--ca', poolCa, '--cert', certOf('backend-2'))
  t.equal(revoke.code, 0, revoke.stderr)
  const metricsShow = async (re: RegExp): Promise<boolean> => re.test((await get(`${admin}/metrics`)).body)
  // Requests keep flowing while the CRL is picked up; once it is, backend-2 is refused on the next handshake.
  await waitFor(async () => { await selves(2); return await metricsShow(/spiffe_lb_backend_handshakes_total\{[^}]*result="ERR_SPIFFE_VERIFY_REVOKED"[^}]*\} [1-9]/) },
    'a handshake refused as revoked', output)
  t.same(await selves(4), Array(4).fill(idOf('backend-1')), 'only backend-1 answers: the pooled connection to backend-2 was retired')
  const peers = JSON.parse((await get(`${admin}/debug/peers`)).body) as { peers: Array<{ endpoint: string, reasons: string[], message?: string }> }
  const two = peers.peers.find((p) => p.endpoint.endsWith(`:${ports.get('backend-2') ?? 0}`))
  t.same(two?.reasons, ['ERR_SPIFFE_VERIFY_REVOKED'])
  t.match(two?.message, /is revoked by the crl of "CN=Demo Root CA, O=Demo"/)

  const status = JSON.parse((await get(`${admin}/status`)).body) as { trustDomains: Array<{ trustDomain: string, crls?: Array<{ source: string, staleCrl: string, revoked?: number, nextUpdate?: string }> }> }
  const crls = status.trustDomains.find((d) => d.trustDomain === TD)?.crls ?? []
  t.same(crls.map((c) => [c.source, c.revoked, c.staleCrl]), [[opensslCrl, 0, 'fail-closed'], [join(poolCa, 'crl.pem'), 1, 'fail-closed']], '/status shows both CRLs of the domain')
  t.ok(crls.every((c) => typeof c.nextUpdate === 'string'))
  const probed = await cli('probe', '-c', config, '--service', 'web', `127.0.0.1:${ports.get('backend-2') ?? 0}`)
  t.equal(probed.code, 1, 'probe -c judges with the CRLs the proxy enforces')
  t.match(probed.stdout, /reject: certificate .* is revoked by the crl of "CN=Demo Root CA, O=Demo" .*\(ERR_SPIFFE_VERIFY_REVOKED\)/)

  // The config's CRL, made by openssl ca, now revokes backend-1 too: replaced by a rename, as writers do.
  await run('openssl', ['ca', ...key, '-revoke', certOf('backend-1')])
  await run('openssl', ['ca', ...key, '-gencrl', '-out', `${opensslCrl}.new`])
  await rename(`${opensslCrl}.new`, opensslCrl)
  // Both are refused now: the first refusal answers 502 with the rule, later ones find no endpoint left.
  let refused = ''
  await waitFor(async () => { const r = await get(`${proxy}/hello`); if (r.status === 502) refused = r.body; return r.status === 502 }, 'backend-1 refused by the openssl crl', output)
  t.match(refused, new RegExp(`certificate .* is revoked by the crl of "CN=Demo Root CA, O=Demo" from "${opensslCrl}" \\(ERR_SPIFFE_VERIFY_REVOKED\\)`))
})

t.test('a stale CRL fails closed by default and admits with a warning under fail-open', async (t) => {
  const partnerCa = await loadCaDir(join(world.stateDir, 'ca-pools', 'partner-ca'))
  const now = Date.now()
  const stale = join(dir, 'partner-stale.pem')
  await writeFile(stale, await createCrl(partnerCa, [], now - 2 * 3_600_000, now - 3_600_000))
  for (const policy of ['fail-closed', 'fail-open'] as const) {
    const config = join(dir, `stale-${policy}.yaml`)
    const block = policy === 'fail-closed' ? '{ crlFiles: [partner-stale.pem] }' : '{ crlFiles: [partner-stale.pem], staleCrl: fail-open }'
    await writeFile(config, `${base}revocation:\n  trustDomains:\n    partner.example: ${block}\n`)
    const { proxy, output } = await serve(t, config)
    const r = await get(`${proxy}/partner/x`)
    if (policy === 'fail-closed') {
      t.equal(r.status, 502, r.body)
      t.match(r.body, /crl of "CN=Partner Root CA, O=Partner" from ".*partner-stale\.pem" is stale: .*\(ERR_SPIFFE_VERIFY_CRL_STALE\)/)
    } else {
      t.equal(r.status, 200, r.body)
      await waitFor(() => /partner-stale\.pem.*is stale.*still admitted \(fail open\)/.test(output()), 'the fail-open warning', output)
    }
    t.equal((await get(`${proxy}/hello`)).status, 200, 'the other domain is not concerned')
  }
})

t.test('config validation names the path of a bad revocation block', async (t) => {
  const config = join(dir, 'bad.yaml')
  await writeFile(config, `${base}revocation:\n  trustDomains:\n    "spiffe://Bad": { crlUrls: [not-a-url] }\n`)
  const r = await cli('serve', '-c', config, '--check')
  t.equal(r.code, 2)
  t.match(r.stderr, /revocation\.trustDomains\["spiffe:\/\/Bad"\]: revocation key .* \(ERR_SPIFFE_CONFIG_REVOCATION_TRUST_DOMAIN\)/)
  t.match(r.stderr, /revocation\.trustDomains\["spiffe:\/\/Bad"\]\.crlUrls\[0\]: crl url must be an http or https url, got "not-a-url" \(ERR_SPIFFE_CONFIG_REVOCATION_URL\)/)
  await writeFile(config, `${base}revocation:\n  trustDomains:\n    partner.example: { staleCrl: closed }\n`)
  const s = await cli('serve', '-c', config, '--check')
  t.equal(s.code, 2)
  t.match(s.stderr, /revocation\.trustDomains\["?partner\.example"?\]\.staleCrl: must be one of fail-closed, fail-open, got "closed" \(ERR_SPIFFE_CONFIG_REVOCATION_STALE_CRL\)/)
})

t.test('a reload adds a domain\'s CRL; a reload with a CRL no trusted CA signed is refused and the old CRLs stay', async (t) => {
  const partnerCa = await loadCaDir(join(world.stateDir, 'ca-pools', 'partner-ca'))
  const now = Date.now()
  const { X509Certificate } = await import('node:crypto')
  const { readFile } = await import('node:fs/promises')
  const serial = new X509Certificate(await readFile(certOf('partner'))).serialNumber
  await writeFile(join(dir, 'partner-revokes.pem'), await createCrl(partnerCa, [{ serialHex: serial, revokedAt: now }], now, now + 3_600_000))
  const config = join(dir, 'reload.yaml')
  await writeFile(config, base)
  const { proxy, output } = await serve(t, config)
  t.equal((await get(`${proxy}/partner/x`)).status, 200, 'no CRL yet')

  await writeFile(config, `${base}revocation:\n  trustDomains:\n    partner.example: { crlFiles: [partner-revokes.pem] }\n`)
  await waitFor(() => /config reloaded .*revocation changed/.test(output()), 'the reload', output)
  const r = await get(`${proxy}/partner/x`)
  t.equal(r.status, 502)
  t.match(r.body, /\(ERR_SPIFFE_VERIFY_REVOKED\)/)

  // A CRL of the pool's CA named for the partner domain: no partner CA signed it.
  const wrong = join(dir, 'wrong.pem')
  const poolCaDir = await loadCaDir(poolCa)
  await writeFile(wrong, await createCrl(poolCaDir, [], now, now + 3_600_000))
  await writeFile(config, `${base}revocation:\n  trustDomains:\n    partner.example: { crlFiles: [wrong.pem] }\n`)
  await waitFor(() => /config reload refused/.test(output()), 'the refused reload', output)
  t.match(output(), /ERR_SPIFFE_PKI_CRL_UNVERIFIED/)
  // The refused backend is ejected for a while (503), or refused again (502): never served.
  t.match(await get(`${proxy}/partner/x`), { status: /^50[23]$/, body: /ERR_SPIFFE_VERIFY_REVOKED|no healthy endpoint in backend service partner/ }, 'the previous CRL stays in force')
  t.equal(output().match(/config reloaded/g)?.length, 1, 'only the first reload applied')
})

t.test('serve --workers 2: the CRLs of the primary reach the workers', async (t) => {
  // The pool's CRL revokes backend-2 since the first test.
  const config = join(dir, 'workers.yaml')
  await writeFile(config, base)
  const { proxy, admin, output } = await serve(t, config, '--workers', '2')
  await waitFor(async () => (await get(`${admin}/readyz`)).status === 200, 'the workers', output)
  const selves = new Set<string>()
  for (let i = 0; i < 8; i++) {
    const r = await get(`${proxy}/hello`)
    selves.add(r.status === 200 ? (JSON.parse(r.body) as { self: string }).self : `${r.status}`)
  }
  t.same([...selves], [idOf('backend-1')], 'every worker refuses the revoked backend-2')
  t.match((await get(`${admin}/metrics`)).body, /spiffe_lb_backend_handshakes_total\{[^}]*result="ERR_SPIFFE_VERIFY_REVOKED"[^}]*\} [1-9]/)
})
