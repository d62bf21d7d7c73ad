// The only file that imports @peculiar/x509. Its ASN.1 schema classes use decorators that
// need the Reflect metadata polyfill loaded first, and it signs through a WebCrypto provider
// that we point at node's own implementation (no second crypto library).
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { webcrypto } from 'node:crypto'

// node's webcrypto.Crypto and the DOM lib's Crypto differ only in type declarations.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

export { x509 }
