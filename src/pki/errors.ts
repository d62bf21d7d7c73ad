import { errorDoc as e, errorFactory, type ErrorRegistry, type RegistryOwner } from '../internal/errors.ts'

/** Codes of the local certificate authority and certificate issuance (`src/pki`). */
export const PKI_ERRORS = {
  ERR_SPIFFE_PKI_BAD_CERTIFICATE: e('a certificate given to the pki does not parse as x.509', 'a corrupted ca file or a non-certificate pem block', 'restore the ca certificate file, or create the ca again'),
  ERR_SPIFFE_PKI_BAD_KEY: e('a ca private key is not a pem private key', 'a corrupted or encrypted ca key file', 'restore the ca key file (unencrypted pem)'),
  ERR_SPIFFE_PKI_KEY_MISMATCH: e('a ca private key does not match the ca certificate', 'key and certificate files of two different cas', 'keep the key that was created with the certificate'),
  ERR_SPIFFE_PKI_NO_CERTIFICATE: e('a ca certificate pem holds no certificate', 'an empty or wrong ca certificate file', 'point to the ca certificate pem'),
  ERR_SPIFFE_PKI_CHAIN_INCOMPLETE: e('a ca\'s chain does not reach a self-signed root', 'a subordinate ca loaded without its parent certificates', 'give the whole chain up to the root'),
  ERR_SPIFFE_PKI_NOT_A_CA: e('a certificate used as a ca lacks basicConstraints CA:TRUE or keyCertSign', 'a leaf certificate given as the parent ca', 'use a ca certificate as the issuer'),
  ERR_SPIFFE_PKI_PATH_LENGTH: e('the parent ca has pathLen 0 and may not sign another ca', 'a subordinate created below a ca that forbids subordinates', 'create the subordinate below a ca with a larger max chain length'),
  ERR_SPIFFE_PKI_MAX_CHAIN_LENGTH: e('a subordinate\'s max chain length exceeds what its parent allows below it', 'a --max-chain-length larger than the parent\'s pathLen minus one', 'lower the max chain length'),
  ERR_SPIFFE_PKI_BAD_MAX_CHAIN_LENGTH: e('a max chain length is not a non-negative integer', 'a negative or fractional value in the ca options', 'give 0 or a positive integer'),
  ERR_SPIFFE_PKI_LIFETIME: e('a certificate lifetime is shorter than one second', 'a zero or negative lifetime, or milliseconds mistaken for seconds', 'give a lifetime of at least one second'),
  ERR_SPIFFE_PKI_EMPTY_URI: e('an svid to issue has an empty uri san', 'an unset spiffe id passed to issuance', 'give the spiffe id to issue for'),
  ERR_SPIFFE_PKI_ISSUER_EXPIRED: e('the issuing ca expires before the svid could start', 'an expired or nearly expired ca', 'rotate the ca (create a new root or subordinate)'),
  ERR_SPIFFE_PKI_BAD_SUBJECT: e('a subject is not a distinguished name like "CN=Demo Root CA, O=Demo"', 'a plain name or a malformed rdn list', 'write the subject as comma-separated KEY=value pairs'),
  ERR_SPIFFE_PKI_BAD_SERIAL: e('a serial number is not hex', 'a decimal or formatted serial given to issuance', 'give the serial as hex digits'),
  ERR_SPIFFE_PKI_SELF_SIGN_NEEDS_PRIVATE_KEY: e('a self-signed certificate needs the private key, but a public key was given', 'a programming error in a caller of the pki', 'pass the private key of the key pair'),
  ERR_SPIFFE_PKI_UNKNOWN_EXT_KEY_USAGE: e('an extended key usage is neither a known name nor a dotted oid', 'a misspelt eku name', 'use serverAuth, clientAuth, … or a dotted oid'),
  ERR_SPIFFE_PKI_UNKNOWN_KEY_ALGORITHM: e('a key algorithm is not one of the supported names', 'a misspelt algorithm (e.g. "EC_P256")', 'use one of the names the message lists (ECDSA_P256, RSA_2048, …)'),
  ERR_SPIFFE_PKI_UNSUPPORTED_KEY: e('a key is of a type the pki does not support', 'an ed448 or dsa key given as a ca key', 'use one of the supported key algorithms'),
  ERR_SPIFFE_PKI_CRL_INVALID: e('a crl file is neither a pem "X509 CRL" block nor der that parses as an x.509 crl', 'a certificate or key given as --crl, or a truncated file', 'give the crl the ca published (ca revoke writes crl.pem; openssl ca -gencrl)'),
  ERR_SPIFFE_PKI_CRL_UNVERIFIED: e('no trusted ca certificate (nor a presented intermediate) names the crl\'s issuer and verifies its signature, so it is never used', 'a crl of another ca, or of a ca missing from the bundles given', 'give the crl of a trusted ca, or add that ca to the trust bundles')
} as const satisfies ErrorRegistry

/** One of the {@link PKI_ERRORS} codes. */
export type PkiErrorCode = keyof typeof PKI_ERRORS

/** Makes an error with one of the {@link PKI_ERRORS} codes. */
export const pkiError = errorFactory(PKI_ERRORS)

/** `src/pki` owns the `PKI` prefix. */
export const PKI_ERROR_REGISTRY: RegistryOwner = { folder: 'pki', prefixes: ['PKI'], codes: PKI_ERRORS }
