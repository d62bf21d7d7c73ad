// CRLs delivered by a SPIFFE Workload API: `spiffe-lb workload-api` sends its pool's CRL (from
// `ca revoke`) in every message; `serve` (source workload-api) matches it to the pool's domain by
// its signature and refuses the revoked backend. A CRL that does not parse, or that no delivered
// bundle's CA signed, keeps the message out with ERR_SPIFFE_CREDENTIALS_CRL_INVALID and the last
// good CRL stays in force.
import t from 'tap'
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startWorkloadApiCommand } from '../src/testbed/workload-api-runner.ts'
import { runCaRevoke } from '../src/commands/ca/ca-revoke.ts'
import { runCaCreate } from '../src/commands/ca/ca-create.ts'
import { DEMO } from '../src/testbed/up-world.ts'
import { createWapiWorld, curl, quiet, spawnServe, waitFor } from './workload-api-world.ts'

t.test('a CRL in the Workload API stream revokes a backend; a bad one is refused and the last good kept', async (t) => {
  const w = await createWapiWorld()
  t.teardown(w.close)
  const started = await startWorkloadApiCommand({ config: w.issuerConfig, listen: w.socket, identity: `//${DEMO.trustDomain}/ns/lb/sa/frontend` }, { stdout: quiet, stderr: quiet })
  if (typeof started === 'number') throw new Error(`workload-api exited ${started}`)
  t.teardown(async () => { await started.close() })
  const serve = await spawnServe(w.serveConfig)
  t.teardown(async () => { await serve.stop() })
  await waitFor(async () => (await serve.status()).identity?.generation !== undefined, 'the first snapshot')

  const idOf = (name: string): string => w.world.backends.find((b) => b.name === name)?.spiffeId ?? ''
  const selves = async (n: number): Promise<string[]> => {
    const out: string[] = []
    for (let i = 0; i < n; i++) {
      const r = await curl(`${serve.proxy}/hello`)
      out.push(r.code === 200 ? (JSON.parse(r.body) as { self: string }).self : `${r.code} ${r.body}`)
    }
    return out
  }
  t.same(new Set(await selves(4)), new Set([idOf('backend-1'), idOf('backend-2')]))

  const poolCa = join(w.world.stateDir, 'ca-pools', 'root-pool')
  const cert = w.world.backends.find((b) => b.name === 'backend-2')?.certFile ?? ''
  t.equal(await runCaRevoke({ ca: poolCa, cert, crlValidity: '3600s' }, { stdout: quiet, stderr: quiet }), 0)
  const metrics = async (): Promise<string> => (await curl(`${serve.admin}/metrics`)).body
  await waitFor(async () => { await selves(2); return /spiffe_lb_backend_handshakes_total\{[^}]*result="ERR_SPIFFE_VERIFY_REVOKED"[^}]*\} [1-9]/.test(await metrics()) },
    'backend-2 refused as revoked')
  t.same(await selves(4), Array(4).fill(idOf('backend-1')), 'only backend-1 answers')
  type Status = { identity: { lastError?: string } | null, trustDomains: Array<{ trustDomain: string, crls?: Array<{ source: string, revoked?: number }> }> }
  const status = async (): Promise<Status> => await serve.status() as unknown as Status
  const crls = (await status()).trustDomains.find((d) => d.trustDomain === DEMO.trustDomain)?.crls
  t.match(crls, [{ source: /crl\[0\]$/, revoked: 1 }], '/status shows the delivered CRL of the pool domain')

  // Garbage in the CRL file: the server sends it, serve refuses the message and keeps the last good.
  const crlFile = join(poolCa, 'crl.pem')
  await writeFile(`${crlFile}.tmp`, `-----BEGIN X509 CRL-----\n${Buffer.from('not a crl at all').toString('base64')}\n-----END X509 CRL-----\n`)
  await rename(`${crlFile}.tmp`, crlFile)
  await waitFor(async () => /ERR_SPIFFE_CREDENTIALS_CRL_INVALID/.test((await status()).identity?.lastError ?? ''), 'the garbage crl refused')
  t.match((await status()).identity?.lastError, /^ERR_SPIFFE_CREDENTIALS_CRL_INVALID: ".*crl\[0\]" is not an x\.509 crl: .*the crl cannot be matched to a trust domain/)
  t.same(await selves(3), Array(3).fill(idOf('backend-1')), 'the last good CRL stays in force')

  // A CRL by a CA of no delivered bundle cannot be matched to a domain.
  const other = join(w.dir, 'other-ca')
  await runCaCreate({ out: other, subject: 'CN=Other, O=Nobody', lifetime: '315360000s' }, { stdout: quiet, stderr: quiet })
  await runCaRevoke({ ca: other, serial: '01', crlValidity: '3600s' }, { stdout: quiet, stderr: quiet })
  await rename(join(other, 'crl.pem'), crlFile)
  await waitFor(async () => /is not signed by any trusted ca/.test((await status()).identity?.lastError ?? ''), 'the foreign crl refused')
  t.match((await status()).identity?.lastError, /^ERR_SPIFFE_CREDENTIALS_CRL_INVALID: crl ".*crl\[0\]" of issuer "CN=Other, O=Nobody" is not signed by any trusted ca certificate given \(delivered bundles: demo-pool\.global\.123456789012\.workload\.id\.goog, partner\.example\); the crl cannot be matched/)
  t.same(await selves(2), Array(2).fill(idOf('backend-1')))
})
