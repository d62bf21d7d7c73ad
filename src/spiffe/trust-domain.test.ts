import t from 'tap'
import { TrustDomain } from './trust-domain.ts'

t.test('accepts bare and spiffe:// forms', async (t) => {
  for (const s of ['example.org', 'spiffe://example.org', 'SPIFFE://example.org', '1.2.3.4', 'a_b-c']) {
    const td = TrustDomain.fromString(s)
    const name = s.replace(/^spiffe:\/\//i, '')
    t.equal(td.name, name, s)
    t.equal(td.toString(), name)
    t.equal(td.idString(), `spiffe://${name}`)
  }
  t.ok(TrustDomain.fromString('example.org').equals(TrustDomain.fromString('spiffe://example.org')))
  t.notOk(TrustDomain.fromString('example.org').equals(TrustDomain.fromString('example.com')))
})

const invalid: Array<[string, string]> = [
  ['', 'ERR_SPIFFE_TRUST_DOMAIN_EMPTY'],
  ['spiffe://', 'ERR_SPIFFE_TRUST_DOMAIN_EMPTY'],
  ['https://example.org', 'ERR_SPIFFE_TRUST_DOMAIN_SCHEME'],
  ['spiffe://example.org/x', 'ERR_SPIFFE_TRUST_DOMAIN_HAS_PATH'],
  ['spiffe://example.org/', 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH'],
  ['example.org/x', 'ERR_SPIFFE_TRUST_DOMAIN_HAS_PATH'],
  ['user@example.org', 'ERR_SPIFFE_TRUST_DOMAIN_USERINFO'],
  ['example.org:443', 'ERR_SPIFFE_TRUST_DOMAIN_PORT'],
  ['ex%41mple.org', 'ERR_SPIFFE_TRUST_DOMAIN_PERCENT_ENCODED'],
  ['Example.org', 'ERR_SPIFFE_TRUST_DOMAIN_UPPERCASE'],
  ['example.org\n', 'ERR_SPIFFE_TRUST_DOMAIN_CHARACTER'],
  ['exa*mple.org', 'ERR_SPIFFE_TRUST_DOMAIN_CHARACTER'],
  ['spiffe://example.org?q', 'ERR_SPIFFE_ID_QUERY'],
  ['a'.repeat(256), 'ERR_SPIFFE_TRUST_DOMAIN_TOO_LONG']
]

for (const [input, code] of invalid) {
  t.test(`rejects ${JSON.stringify(input.slice(0, 40))} with ${code}`, async (t) => {
    const err = t.throws(() => TrustDomain.fromString(input), { code }) as Error
    if (input !== '') t.match(err.message, JSON.stringify(input.slice(0, 30)).slice(0, -1))
  })
}

t.test('rejects a value that is not a string', async (t) => {
  t.throws(() => TrustDomain.fromString(undefined as unknown as string), { code: 'ERR_SPIFFE_TRUST_DOMAIN_NOT_A_STRING' })
})
