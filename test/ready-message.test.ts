import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createBenchPki } from '../src/bench/bench-pki.ts'
import { spiffeLbChild, startChild } from '../src/bench/child-process.ts'

// A spiffe-lb process started with an IPC channel tells its parent where it listens as a
// structured message (process/ready-message.ts): the benchmarks rely on it instead of stdout.

t.test('spiffe-lb backend announces its address over IPC', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-ready-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const pki = await createBenchPki(dir, 'ECDSA_P256', 1)
  const child = await startChild({
    ...spiffeLbChild('backend', 'backend', '--listen', '127.0.0.1:0', '--cert', pki.server.certFile, '--key', pki.server.keyFile,
      '--bundle', `${pki.trustDomain.name}=${pki.rootFile}`),
    timeoutMs: 60_000
  })
  t.teardown(async () => { await child.stop() })
  t.equal(child.announced?.command, 'backend')
  t.match(child.announced?.address, /^127\.0\.0\.1:[1-9]\d*$/)
  t.equal(child.ready, undefined, 'no stdout pattern was needed')
})
