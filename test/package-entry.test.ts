import t from 'tap'

// The package must work as users import it: by name, from the built `dist/` (npm test builds
// first). Self-reference through package.json "exports" resolves 'spiffe-lb' to dist/index.js.
t.test('import { SpiffeId } from "spiffe-lb" works from the built package', async (t) => {
  const lib = await import('spiffe-lb')
  const id = lib.SpiffeId.fromString('spiffe://example.org/ns/prod/sa/web')
  t.equal(id.trustDomain.name, 'example.org')
  t.equal(id.path, '/ns/prod/sa/web')
  t.type(lib.verifyX509Svid, 'function')
  t.type(lib.X509Bundle, 'function')
  t.type(lib.BundleSet, 'function')
  t.type(lib.X509Svid, 'function')
  t.type(lib.TrustDomain, 'function')
  let err: unknown
  try { lib.SpiffeId.fromString('spiffe://Example.org/x') } catch (e) { err = e }
  t.ok(err instanceof Error)
  t.match(err, { code: /^ERR_SPIFFE_/ })
})
