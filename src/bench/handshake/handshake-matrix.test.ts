import t from 'tap'
import { cellId, handshakeMatrix, offeredGroups } from './handshake-matrix.ts'

t.test('the matrix is the product, grouped by key algorithm and depth', async (t) => {
  const m = handshakeMatrix({ keyAlgorithms: ['ECDSA_P256', 'RSA_2048'], chainDepths: [1, 2], tlsVersions: ['TLSv1.3', 'TLSv1.2'], groups: ['X25519', 'P-256'], modes: ['full', 'resumed'] })
  t.equal(m.cells.length, 2 * 2 * 2 * 2 * 2)
  t.same(m.skipped, [])
  t.equal(new Set(m.cells.map((c) => c.id)).size, m.cells.length, 'ids are unique')
  t.equal(m.cells[0]?.id, 'ECDSA_P256/leaf+root/TLSv1.3/X25519/full')
  t.equal(m.cells[8]?.id, 'ECDSA_P256/leaf+intermediate+root/TLSv1.3/X25519/full')
  // Cells sharing a PKI are adjacent: key algorithm and depth change 4 times in 32 cells.
  let changes = 0
  m.cells.forEach((c, i) => {
    const p = m.cells[i - 1]
    if (p !== undefined && (p.keyAlgorithm !== c.keyAlgorithm || p.chainDepth !== c.chainDepth)) changes++
  })
  t.equal(changes, 3)
})

t.test('hybrid groups are TLS 1.3 only', async (t) => {
  const m = handshakeMatrix({ keyAlgorithms: ['ECDSA_P256'], chainDepths: [1], tlsVersions: ['TLSv1.3', 'TLSv1.2'], groups: ['X25519MLKEM768'], modes: ['full'] })
  t.same(m.cells.map((c) => c.id), ['ECDSA_P256/leaf+root/TLSv1.3/X25519MLKEM768/full'])
  t.same(m.skipped.map((s) => s.id), ['ECDSA_P256/leaf+root/TLSv1.2/X25519MLKEM768/full'])
})

t.test('TLS 1.2 with an ECDSA certificate also offers its curve', async (t) => {
  const cases: Array<[Parameters<typeof offeredGroups>, string[]]> = [
    [['X25519', 'TLSv1.3', 'ECDSA_P256'], ['X25519']],
    [['X25519', 'TLSv1.2', 'ECDSA_P256'], ['X25519', 'P-256']],
    [['X25519', 'TLSv1.2', 'ECDSA_P384'], ['X25519', 'P-384']],
    [['P-256', 'TLSv1.2', 'ECDSA_P256'], ['P-256']],
    [['X25519', 'TLSv1.2', 'RSA_2048'], ['X25519']]
  ]
  for (const [args, want] of cases) t.same(offeredGroups(...args), want, args.join(' '))
  t.equal(cellId({ keyAlgorithm: 'RSA_4096', chainDepth: 2, tlsVersion: 'TLSv1.2', group: 'P-256', mode: 'resumed' }), 'RSA_4096/leaf+intermediate+root/TLSv1.2/P-256/resumed')
})
