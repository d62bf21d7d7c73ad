import t from 'tap'
import type { Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBenchPki } from '../src/bench/bench-pki.ts'
import { cliArgs, startChild } from '../src/bench/child-process.ts'
import { runHandshakeBench } from '../src/bench/handshake/handshake-bench.ts'
import { parseHandshakeFlags } from '../src/bench/handshake/handshake-options.ts'
import type { HandshakeSample } from '../src/bench/report-model.ts'
import { runCli } from '../src/cli/program.ts'

//: a tiny matrix end to end (one cell in both modes, 300 ms slices) through the
// public function, against a `spiffe-lb backend` child. Structure and counts only, no timings.
const options = parseHandshakeFlags({
  keyAlgorithms: 'ECDSA_P256', chainDepths: '1', tlsVersions: 'TLSv1.3', groups: 'X25519', modes: 'full,resumed',
  concurrency: '4', duration: '600ms', warmup: '200ms', slice: '300ms'
})
const lines: string[] = []
const report = await runHandshakeBench(options, (line) => { lines.push(line) })

function checkSample (t: Test, s: HandshakeSample, protocol: string): void {
  t.ok(s.handshakes > 0, 'handshakes made')
  t.equal(s.errors, 0, 'no errors')
  t.same(s.errorSamples, [])
  t.ok(s.durationMs > 0 && s.handshakesPerSecond > 0, 'time and rate')
  t.ok(Math.abs(s.handshakesPerSecond - s.handshakes / (s.durationMs / 1000)) < 1e-6, 'rate = handshakes / time')
  t.ok(s.cpuMicrosPerHandshake > 0, 'cpu per handshake')
  t.ok(s.latencyMs.p50 > 0 && s.latencyMs.p50 <= s.latencyMs.p90 && s.latencyMs.p90 <= s.latencyMs.p99, 'ordered latency percentiles')
  t.match(s.negotiated, { protocol, group: 'X25519', cipher: /^TLS_/ })
}

t.test('the report has the handshake shape', async (t) => {
  t.equal(report.kind, 'handshake')
  t.equal(report.version, 1)
  t.match(report.environment, { node: process.version, openssl: process.versions.openssl, cpus: Number })
  t.match(report.options, { keyAlgorithms: ['ECDSA_P256'], modes: ['full', 'resumed'], durationMs: 600, sliceMs: 300, target: 'spiffe-lb' })
  t.same(report.handshake?.map((c) => c.id), ['ECDSA_P256/leaf+root/TLSv1.3/X25519/full', 'ECDSA_P256/leaf+root/TLSv1.3/X25519/resumed'])
  t.equal(lines.filter((l) => /^\[\d\/2\] ECDSA_P256/.test(l)).length, 2, 'one progress line per cell')
})

for (const cell of report.handshake ?? []) {
  t.test(`cell ${cell.id}`, async (t) => {
    t.match(cell, { keyAlgorithm: 'ECDSA_P256', chainDepth: 1, tlsVersion: 'TLSv1.3', group: 'X25519' })
    t.test('subject', async (t) => { checkSample(t, cell.subject, cell.tlsVersion) })
    t.test('baseline', async (t) => { checkSample(t, cell.baseline, cell.tlsVersion) })
    const want = cell.mode === 'resumed' ? 1 : 0
    t.ok(Math.abs(cell.subject.resumedFraction - want) <= 0.01, `connector resumed fraction ${cell.subject.resumedFraction} ≈ ${want}`)
    t.ok(Math.abs(cell.baseline.resumedFraction - want) <= 0.01, `baseline resumed fraction ${cell.baseline.resumedFraction} ≈ ${want}`)
    t.equal(cell.ratio.cpuPerHandshake, cell.subject.cpuMicrosPerHandshake / cell.baseline.cpuMicrosPerHandshake, 'cpu ratio = subject / baseline')
    t.equal(cell.ratio.handshakesPerSecond, cell.subject.handshakesPerSecond / cell.baseline.handshakesPerSecond, 'rate ratio = subject / baseline')
    // No hidden reuse: the backend saw one verified connection per handshake, both sides and
    // the warm-up included, and resumed exactly the ones the client saw resumed.
    const counts = cell.counts
    t.ok(counts !== undefined && counts.handshakes >= cell.subject.handshakes + cell.baseline.handshakes, 'client totals include the measured handshakes')
    t.equal(counts?.errors, 0)
    t.same(counts?.target, { connections: counts?.handshakes, resumed: counts?.resumed, rejected: 0 }, 'backend /stats matches the client')
    if (cell.mode === 'full') t.equal(counts?.resumed, 0)
  })
}

t.test('targets follow the measured values', async (t) => {
  const names = report.targets.map((c) => c.name)
  t.same(names, ['connector full cpu ratio <= 1.10', 'resumed fraction >= 0.99', 'connector resumed cpu ratio <= 1.15'])
  const [full, resumed] = report.handshake ?? []
  t.same(report.targets.map((c) => c.value), [full?.ratio.cpuPerHandshake, resumed?.subject.resumedFraction, resumed?.ratio.cpuPerHandshake])
  t.same(report.targets.map((c) => c.met), [
    (full?.ratio.cpuPerHandshake ?? 0) <= 1.10, (resumed?.subject.resumedFraction ?? 0) >= 0.99, (resumed?.ratio.cpuPerHandshake ?? 0) <= 1.15
  ])
})

t.test('the cli refuses a bad option with exit code 2', async (t) => {
  const errors: string[] = []
  const write = process.stderr.write
  process.stderr.write = ((chunk: string) => { errors.push(String(chunk)); return true }) as typeof process.stderr.write
  let code: number
  try {
    code = await runCli(['bench', 'handshake', '--modes', 'full,pooled'])
  } finally {
    process.stderr.write = write
  }
  t.equal(code, 2)
  t.match(errors.join(''), /ERR_SPIFFE_BENCH_BAD_OPTION: --modes "pooled"/)
})

t.test('against openssl s_server: a real peer completes full handshakes and reports its group', async (t) => {
  const viaOpenssl = await runHandshakeBench(parseHandshakeFlags({
    keyAlgorithms: 'ECDSA_P256', chainDepths: '2', tlsVersions: 'TLSv1.3', groups: 'X25519', modes: 'full',
    concurrency: '2', duration: '400ms', warmup: '100ms', slice: '200ms', target: 'openssl'
  }))
  t.equal(viaOpenssl.options.target, 'openssl')
  const [cell] = viaOpenssl.handshake ?? []
  t.equal(cell?.id, 'ECDSA_P256/leaf+intermediate+root/TLSv1.3/X25519/full')
  t.ok((cell?.subject.handshakes ?? 0) > 0 && (cell?.baseline.handshakes ?? 0) > 0, 'both sides completed handshakes')
  t.equal((cell?.subject.errors ?? 1) + (cell?.baseline.errors ?? 1), 0, 'no errors')
  t.match(cell?.subject.negotiated, { protocol: 'TLSv1.3', group: 'X25519' })
})

t.test('against an address: the user brings the target and the client credentials', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-bench-addr-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const pki = await createBenchPki(dir, 'ECDSA_P384', 2)
  const backend = await startChild({
    name: 'backend',
    args: cliArgs('backend', '--listen', '127.0.0.1:0', '--cert', pki.server.certFile, '--key', pki.server.keyFile, '--bundle', `${pki.trustDomain.name}=${pki.rootFile}`),
    ready: /listening on (\S+):(\d+)/
  })
  t.teardown(() => backend.stop())
  const address = `127.0.0.1:${backend.ready?.[2] ?? ''}`
  const viaAddress = await runHandshakeBench(parseHandshakeFlags({
    target: address, cert: pki.client.certFile, key: pki.client.keyFile, bundle: [`${pki.trustDomain.name}=${pki.rootFile}`],
    tlsVersions: 'TLSv1.3', groups: 'X25519', modes: 'full', concurrency: '2', duration: '400ms', warmup: '100ms', slice: '200ms'
  }))
  t.equal(viaAddress.options.target, address)
  const [cell] = viaAddress.handshake ?? []
  t.ok((cell?.subject.handshakes ?? 0) > 0, 'the connector verified the address\'s SVID with the given bundle')
  t.equal((cell?.subject.errors ?? 1) + (cell?.baseline.errors ?? 1), 0)
  t.throws(() => parseHandshakeFlags({ target: address }), { code: 'ERR_SPIFFE_BENCH_BAD_OPTION' }, 'an address needs client credentials')
})
