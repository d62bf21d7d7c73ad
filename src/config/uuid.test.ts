import t from 'tap'
import { derivedId } from './derived.ts'
import { DERIVED_RESOURCE_NAMESPACE, uuidV5 } from './uuid.ts'

t.test('uuidV5 matches RFC 9562 / Python uuid.uuid5 vectors', async (t) => {
  const dns = '6ba7b810-9dad-11d1-80b4-00c04fd430c8'
  t.equal(uuidV5(dns, 'python.org'), '886313e1-3b8a-5372-9b90-0c9aee199e5d')
  t.equal(uuidV5(dns, 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2')
  t.throws(() => uuidV5('not-a-uuid', 'x'), { code: 'ERR_SPIFFE_CONFIG_DERIVE_INPUT' })
})

t.test('derived IDs are stable per project and service, and differ otherwise', async (t) => {
  const a = derivedId('123456789012', 'web', 'bac')
  t.match(a, /^mi-bac-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  t.equal(derivedId('123456789012', 'web', 'bac'), a)
  t.not(derivedId('123456789012', 'api', 'bac'), a)
  t.not(derivedId('999', 'web', 'bac'), a)
  t.equal(derivedId('123456789012', 'web', 'crt').slice(7), uuidV5(DERIVED_RESOURCE_NAMESPACE, 'projects/123456789012/backendServices/web/crt'))
  t.not(derivedId('123456789012', 'web', 'tc').slice(6), a.slice(7))
})
