// The only file that loads @peculiar/x509. It is loaded on first use, not at import: `serve`
// imports the config validator, which reaches pki/ for CA subjects, and most configs have no CA
// pool, so the library's ~200 modules (about 5 MiB of a data-plane process) stay out of it. Its
// ASN.1 schema classes use decorators that need the Reflect metadata polyfill loaded first, and
// it signs through a WebCrypto provider pointed at node's own implementation (no second crypto
// library).
import { createRequire } from 'node:module'
import { webcrypto } from 'node:crypto'
import type * as X509 from '@peculiar/x509'

type X509Module = typeof X509
let loaded: X509Module | undefined

function load (): X509Module {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url)
    require('reflect-metadata')
    const lib = require('@peculiar/x509') as X509Module
    // node's webcrypto.Crypto and the DOM lib's Crypto differ only in type declarations.
    lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0])
    loaded = lib
  }
  return loaded
}

/** @peculiar/x509's exports, loaded on the first property read. */
export const x509: X509Module = new Proxy({} as X509Module, { get: (_target, key) => Reflect.get(load(), key) })
/** The types of @peculiar/x509 (`X509.Name`…), for the values read through {@link x509}. */
export type * as X509 from '@peculiar/x509'
