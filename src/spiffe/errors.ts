import { errorDoc as e, errorFactory, type ErrorRegistry, type RegistryOwner } from '../internal/errors.ts'

/**
 * Codes of the SPIFFE core: IDs and trust domains (SPIFFE-ID spec), bundles (trust domain and
 * bundle spec), X.509-SVIDs (X509-SVID spec) and their path verification (RFC 5280 section 6).
 */
export const SPIFFE_ERRORS = {
  ERR_SPIFFE_ID_NOT_A_STRING: e('a spiffe id must be a string', 'a number, list or null where an id was expected (config, json document)', 'write the id as a string "spiffe://TRUST_DOMAIN/PATH"'),
  ERR_SPIFFE_ID_EMPTY: e('a spiffe id must not be empty', 'an unset variable or an empty field', 'give the full id, "spiffe://TRUST_DOMAIN/PATH"'),
  ERR_SPIFFE_ID_TOO_LONG: e('a spiffe id is longer than 2048 bytes (SPIFFE-ID spec section 2.3)', 'a generated or concatenated path that grew without bound', 'shorten the workload path'),
  ERR_SPIFFE_ID_SCHEME: e('a spiffe id must start with "spiffe://"', 'a bare trust domain or path, or another uri scheme (https://)', 'prefix the id with "spiffe://"'),
  ERR_SPIFFE_ID_QUERY: e('a spiffe id must not contain a query ("?")', 'a url copied with its query string', 'remove everything from "?"'),
  ERR_SPIFFE_ID_FRAGMENT: e('a spiffe id must not contain a fragment ("#")', 'a url copied with its fragment', 'remove everything from "#"'),
  ERR_SPIFFE_ID_PATH_NO_LEADING_SLASH: e('a spiffe id path must be empty or start with "/"', 'a path assembled without its leading slash', 'start the path with "/"'),
  ERR_SPIFFE_ID_PATH_TRAILING_SLASH: e('a spiffe id path must not end with "/"', 'a path joined with a trailing separator', 'remove the trailing "/"'),
  ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT: e('a spiffe id path must not contain an empty segment ("//")', 'two path parts joined with doubled slashes, or an empty variable', 'remove the empty segment'),
  ERR_SPIFFE_ID_PATH_DOT_SEGMENT: e('a spiffe id path must not contain "." or ".." segments', 'a relative path used as an id', 'write the normalized path'),
  ERR_SPIFFE_ID_PATH_PERCENT_ENCODED: e('a spiffe id path must not contain percent-encoded characters', 'an id taken from an url-encoded field', 'decode it; segments allow only letters, digits, ".", "-" and "_"'),
  ERR_SPIFFE_ID_PATH_CHARACTER: e('a spiffe id path segment contains a character outside letters, digits, ".", "-" and "_"', 'spaces, ":", "@" or non-ascii characters in a workload name', 'rename the segment with allowed characters only'),
  ERR_SPIFFE_TRUST_DOMAIN_NOT_A_STRING: e('a trust domain must be a string', 'a number, list or null where a trust domain was expected', 'write the trust domain as a string like "example.org"'),
  ERR_SPIFFE_TRUST_DOMAIN_EMPTY: e('a trust domain must not be empty', '"spiffe:///path" or an unset variable', 'give the trust domain name'),
  ERR_SPIFFE_TRUST_DOMAIN_TOO_LONG: e('a trust domain is longer than 255 bytes (SPIFFE-ID spec section 2.1)', 'a generated name that grew without bound', 'use a shorter trust domain name'),
  ERR_SPIFFE_TRUST_DOMAIN_USERINFO: e('a trust domain must not contain userinfo ("@")', 'an url with user@host copied as an id', 'remove the "user@" part'),
  ERR_SPIFFE_TRUST_DOMAIN_CHARACTER: e('a trust domain contains a character outside a-z, 0-9, ".", "-" and "_", or is an ipv6 literal', 'a hostname with unusual characters or an ip address used as trust domain', 'use a dns-like lowercase name'),
  ERR_SPIFFE_TRUST_DOMAIN_PORT: e('a trust domain must not contain a port or ":"', 'a host:port copied as trust domain', 'remove the port'),
  ERR_SPIFFE_TRUST_DOMAIN_PERCENT_ENCODED: e('a trust domain must not contain percent-encoded characters', 'a name taken from an url-encoded field', 'decode it to plain lowercase characters'),
  ERR_SPIFFE_TRUST_DOMAIN_UPPERCASE: e('a trust domain must be lowercase', 'a name typed with capitals (dns is case-insensitive, spiffe is not)', 'write it in lowercase, as the message suggests'),
  ERR_SPIFFE_TRUST_DOMAIN_HAS_PATH: e('a trust domain must not have a path or contain "/"', 'a full spiffe id given where only its trust domain is expected', 'give only the trust domain, "spiffe://TRUST_DOMAIN" or "TRUST_DOMAIN"'),
  ERR_SPIFFE_TRUST_DOMAIN_SCHEME: e('a trust domain must be a bare name or start with "spiffe://"', 'another scheme (https://) in front of the name', 'write "example.org" or "spiffe://example.org"'),
  ERR_SPIFFE_BUNDLE_EMPTY: e('a trust bundle has no x.509 authorities', 'an empty pem file or an empty trust anchor list', 'put at least one ca certificate of the trust domain in the bundle'),
  ERR_SPIFFE_BUNDLE_UNEXPECTED_PEM_BLOCK: e('a trust bundle holds a pem block that is not "CERTIFICATE"', 'a private key or csr put in the bundle file by mistake', 'keep only "CERTIFICATE" blocks in a bundle'),
  ERR_SPIFFE_BUNDLE_AUTHORITY_NOT_CA: e('a trust bundle authority is not a ca certificate (basicConstraints ca is not true)', 'a leaf svid put in the bundle instead of the ca that issued it', 'put the ca certificate (root or intermediate ca) in the bundle'),
  ERR_SPIFFE_BUNDLE_BAD_CERTIFICATE: e('a trust bundle certificate does not parse as x.509', 'a corrupted pem body or a non-certificate in the bundle', 'export the ca certificate again'),
  ERR_SPIFFE_BUNDLE_DUPLICATE_TRUST_DOMAIN: e('a trust domain has more than one bundle', 'the same domain listed twice in a trust config or bundle map', 'merge its authorities into one entry'),
  ERR_SPIFFE_BUNDLE_MAP_MALFORMED: e('a bundle map (trust_domains, spiffeTrustStores) is not an object', 'a list or string where a map of trust domain to bundle is expected', 'write a map keyed by trust domain'),
  ERR_SPIFFE_BUNDLE_TRUST_STORE_MALFORMED: e('a spiffe trust store is not an object with a trustAnchors list', 'a pasted trust config with the wrong nesting', 'write {trustAnchors: [{pemCertificate: …}]} per trust domain'),
  ERR_SPIFFE_BUNDLE_INTERMEDIATES_UNSUPPORTED: e('intermediateCas is not supported in a spiffe trust store', 'a trust config that lists intermediates for the peer', 'remove intermediateCas; peers must send their intermediates in the handshake'),
  ERR_SPIFFE_BUNDLE_NO_TRUST_ANCHORS: e('a spiffe trust store has an empty trustAnchors list', 'a trust domain listed without any ca', 'add the trust domain\'s root ca, or remove the domain'),
  ERR_SPIFFE_BUNDLE_TRUST_ANCHOR_MALFORMED: e('a trust anchor is not an object with a non-empty pemCertificate string', 'a bare string or an empty field in trustAnchors', 'write each anchor as {pemCertificate: "-----BEGIN CERTIFICATE-----…"}'),
  ERR_SPIFFE_BUNDLE_TRUST_ANCHOR_NOT_PEM: e('a trust anchor\'s pemCertificate holds no pem block', 'base64 without BEGIN/END lines, or a file path instead of content', 'paste the whole pem certificate'),
  ERR_SPIFFE_BUNDLE_TRUST_ANCHOR_MULTIPLE_CERTIFICATES: e('a trust anchor\'s pemCertificate holds more than one pem block', 'a whole bundle pasted into one anchor', 'put each certificate in its own trustAnchors entry'),
  ERR_SPIFFE_BUNDLE_JWKS_MALFORMED: e('a spiffe bundle is not a jwk set (an object with a keys array)', 'a trust_bundles.json entry that is not a spiffe bundle document', 'write the bundle as {"keys": [ … ]} (SPIFFE trust domain and bundle spec section 4)'),
  ERR_SPIFFE_BUNDLE_BAD_SEQUENCE: e('spiffe_sequence or spiffe_refresh_hint is not a non-negative integer', 'a string or negative number written by a foreign tool', 'write both as plain non-negative integers'),
  ERR_SPIFFE_BUNDLE_JWK_MALFORMED: e('a key in a spiffe bundle is not a json object', 'a string or list inside "keys"', 'write each key as a jwk object'),
  ERR_SPIFFE_BUNDLE_JWK_BAD_X5C: e('an "x509-svid" jwk has an x5c that is not a list of standard base64 der certificates', 'base64url or pem text in x5c', 'put the ca certificate as standard base64 der in x5c[0]'),
  ERR_SPIFFE_BUNDLE_NO_X509_AUTHORITIES: e('a spiffe bundle has no "x509-svid" key with an x5c certificate', 'a bundle holding only jwt keys', 'add the x.509 authorities of the trust domain'),
  ERR_SPIFFE_SVID_NO_CERTIFICATE: e('an x.509-svid chain holds no certificate', 'an empty or wrong certificate file', 'point to the svid certificate chain pem (leaf first)'),
  ERR_SPIFFE_SVID_BAD_CERTIFICATE: e('a certificate of an x.509-svid chain does not parse as x.509', 'a corrupted or truncated chain file', 'issue or fetch the svid again'),
  ERR_SPIFFE_SVID_NO_PRIVATE_KEY: e('an x.509-svid key file holds no private key, or a public key', 'the certificate file given as key, or an empty key file', 'point to the svid\'s private key pem'),
  ERR_SPIFFE_SVID_MULTIPLE_PRIVATE_KEYS: e('an x.509-svid key file holds more than one private key', 'several keys concatenated into one file', 'keep exactly the key that matches the svid'),
  ERR_SPIFFE_SVID_ENCRYPTED_PRIVATE_KEY: e('an x.509-svid private key is encrypted ("ENCRYPTED PRIVATE KEY")', 'a key exported with a passphrase', 'store the key unencrypted, protected by file permissions'),
  ERR_SPIFFE_SVID_BAD_PRIVATE_KEY: e('an x.509-svid private key block does not parse as a private key', 'a corrupted or truncated key file', 'issue or fetch the svid again'),
  ERR_SPIFFE_SVID_NOT_PEM: e('an x.509-svid certificate or key is not pem', 'der bytes or a file path given where pem text is expected', 'give pem text ("-----BEGIN …-----")'),
  ERR_SPIFFE_SVID_KEY_MISMATCH: e('the private key does not match the x.509-svid leaf certificate', 'key and certificate from two different rotations or identities', 'use the key issued together with this certificate'),
  ERR_SPIFFE_SVID_NO_URI_SAN: e('an x.509-svid leaf has no uri san (X509-SVID spec section 2: exactly one)', 'a plain tls certificate used as an svid', 'issue a certificate whose uri san is the spiffe id'),
  ERR_SPIFFE_SVID_MULTIPLE_URI_SANS: e('an x.509-svid leaf has more than one uri san', 'a certificate issued for several identities', 'issue one certificate per spiffe id'),
  ERR_SPIFFE_SVID_URI_NOT_SPIFFE: e('the uri san of an x.509-svid is not a spiffe id (scheme must be "spiffe")', 'a certificate with an https uri san', 'issue a certificate whose uri san is "spiffe://…"'),
  ERR_SPIFFE_SVID_INVALID_SPIFFE_ID: e('the uri san of an x.509-svid is not a valid spiffe id', 'an issuer that wrote a malformed id (see the nested ERR_SPIFFE_ID_* rule)', 'fix the id the issuer puts in the certificate'),
  ERR_SPIFFE_SVID_ID_HAS_NO_PATH: e('an x.509-svid leaf names only a trust domain; a leaf must name a workload', 'a certificate issued for "spiffe://example.org" without a path', 'issue the svid for a workload id with a path'),
  ERR_SPIFFE_SVID_SAN_NOT_CRITICAL: e('an x.509-svid with an empty subject has a non-critical subject alternative name extension (RFC 5280 section 4.2.1.6)', 'a hand-made certificate profile', 'mark the san extension critical, or set a subject'),
  ERR_SPIFFE_SVID_IS_CA: e('an x.509-svid leaf is a ca certificate (basicConstraints ca true)', 'a ca certificate presented as the leaf, or a wrong issuance profile', 'present a leaf with basicConstraints ca false'),
  ERR_SPIFFE_SVID_NO_KEY_USAGE: e('an x.509-svid leaf has no key usage extension', 'a certificate profile without key usage', 'issue the leaf with a critical key usage that sets digitalSignature'),
  ERR_SPIFFE_SVID_KEY_USAGE_NOT_CRITICAL: e('an x.509-svid leaf has a key usage extension that is not critical', 'a certificate profile that marks key usage non-critical', 'mark key usage critical in the issuance profile'),
  ERR_SPIFFE_SVID_KEY_CERT_SIGN: e('an x.509-svid leaf sets keyCertSign; a leaf must not sign certificates', 'a ca-like profile used for a workload', 'issue the leaf without keyCertSign'),
  ERR_SPIFFE_SVID_CRL_SIGN: e('an x.509-svid leaf sets cRLSign; a leaf must not sign crls', 'a ca-like profile used for a workload', 'issue the leaf without cRLSign'),
  ERR_SPIFFE_SVID_NO_DIGITAL_SIGNATURE: e('an x.509-svid leaf does not set digitalSignature in key usage', 'a profile with only keyEncipherment', 'issue the leaf with digitalSignature'),
  ERR_SPIFFE_SVID_UNHANDLED_CRITICAL_EXTENSION: e('an x.509-svid leaf has a critical extension that is not understood (RFC 5280 section 4.2)', 'a proprietary extension marked critical', 'issue the leaf without it, or mark it non-critical'),
  ERR_SPIFFE_SVID_EKU_NO_SERVER_AUTH: e('an x.509-svid used by a server has an extended key usage without serverAuth', 'a client-only certificate on a backend', 'issue the backend\'s svid with serverAuth, or without an eku'),
  ERR_SPIFFE_SVID_EKU_NO_CLIENT_AUTH: e('an x.509-svid used by a client has an extended key usage without clientAuth', 'a server-only certificate presented as a client certificate', 'issue the client\'s svid with clientAuth, or without an eku'),
  ERR_SPIFFE_SVID_EXPIRED: e('an x.509-svid is past its notAfter', 'rotation stopped (agent down, issuer failing) or a stale file', 'check the credential source and rotate the svid; also check the clock'),
  ERR_SPIFFE_SVID_NOT_YET_VALID: e('an x.509-svid is before its notBefore', 'clock skew between issuer and verifier', 'synchronize clocks (ntp) or backdate notBefore at issuance'),
  ERR_SPIFFE_VERIFY_EMPTY_CHAIN: e('the peer presented an empty certificate chain', 'a peer configured without a client or server certificate', 'configure the peer to present its x.509-svid'),
  ERR_SPIFFE_VERIFY_CHAIN_TOO_LONG: e('a presented chain has more certificates, or needs more intermediates, than accepted', 'a misconfigured peer that sends its whole ca store, or a hostile peer', 'send only the leaf and the intermediates to the trust domain\'s ca'),
  ERR_SPIFFE_VERIFY_NO_BUNDLE: e('no trust bundle for the peer\'s trust domain: that domain is not trusted', 'a backend of another trust domain, or a trust config that lacks it', 'add the domain to additionalTrustBundles (or the trust config) if it should be trusted'),
  ERR_SPIFFE_VERIFY_TOO_MANY_CANDIDATES: e('path building needed more issuer checks than allowed and stopped', 'a bundle or chain with many certificates sharing a subject, or a hostile chain', 'reduce the duplicate certificates in the bundle and chain'),
  ERR_SPIFFE_VERIFY_NO_PATH: e('the chain does not lead to any authority of the peer\'s own trust domain', 'the peer\'s svid was issued by a ca of another domain, or its intermediates are missing', 'make the peer send its intermediates and check the bundle holds the right ca'),
  ERR_SPIFFE_VERIFY_ISSUER_NOT_CA: e('a certificate in the chain is used as an issuer but is not a ca', 'a leaf placed in the middle of the chain', 'send only ca certificates after the leaf'),
  ERR_SPIFFE_VERIFY_ISSUER_NO_KEY_CERT_SIGN: e('an issuer in the chain does not set keyCertSign in key usage', 'a ca certificate with a wrong key usage profile', 'reissue the ca with keyCertSign'),
  ERR_SPIFFE_VERIFY_CERT_EXPIRED: e('an intermediate or authority in the chain is past its notAfter', 'an expired intermediate still sent by the peer, or an old bundle', 'rotate the ca and its intermediates; update the bundle'),
  ERR_SPIFFE_VERIFY_CERT_NOT_YET_VALID: e('an intermediate or authority in the chain is before its notBefore', 'a freshly made ca and clock skew', 'synchronize clocks or wait until the ca is valid'),
  ERR_SPIFFE_VERIFY_UNHANDLED_CRITICAL_EXTENSION: e('an issuer in the chain has a critical extension that is not understood', 'a ca with a proprietary critical extension', 'reissue the ca without it'),
  ERR_SPIFFE_VERIFY_PATH_LEN_EXCEEDED: e('a ca allows fewer intermediates below it (pathLen) than the chain has', 'a subordinate ca created below a ca with pathLen 0', 'reissue the ca with a larger pathLen, or shorten the chain'),
  ERR_SPIFFE_VERIFY_BAD_SIGNATURE: e('a certificate\'s signature does not verify with its issuer\'s key', 'a forged or corrupted certificate, or an issuer with the same name but another key', 'check the peer\'s chain and the bundle come from the same ca'),
  ERR_SPIFFE_VERIFY_ISSUER_MISMATCH: e('a certificate does not name its issuer (subject or key identifier differs)', 'a chain sent in the wrong order or with a wrong intermediate', 'send the chain leaf first, each certificate followed by its issuer'),
  ERR_SPIFFE_VERIFY_NAME_CONSTRAINTS_UNSUPPORTED: e('a ca has name constraints of a kind that is not checked, so the chain is refused', 'a ca with directory-name or other constraint types', 'use uri name constraints only, or none'),
  ERR_SPIFFE_VERIFY_NAME_CONSTRAINTS_VIOLATED: e('a ca\'s name constraints exclude the peer\'s spiffe id', 'a ca restricted to another trust domain or path issued this svid', 'issue the svid from a ca permitted for the id'),
  ERR_SPIFFE_CERT_MALFORMED: e('a certificate\'s extensions cannot be parsed', 'a corrupted certificate or malformed der in an extension', 'reissue the certificate'),
  ERR_SPIFFE_CERT_DUPLICATE_EXTENSION: e('a certificate has the same extension twice (RFC 5280 section 4.2 forbids it)', 'a broken or hostile issuer', 'reissue the certificate'),
  ERR_SPIFFE_DER_MALFORMED: e('a der encoding inside a certificate is malformed', 'a corrupted or hostile certificate', 'reissue the certificate')
} as const satisfies ErrorRegistry

/** One of the {@link SPIFFE_ERRORS} codes. */
export type SpiffeErrorCode = keyof typeof SPIFFE_ERRORS

/** Makes an error with one of the {@link SPIFFE_ERRORS} codes. */
export const spiffeError = errorFactory(SPIFFE_ERRORS)

/** `src/spiffe` owns the prefixes of the SPIFFE specifications' objects. */
export const SPIFFE_ERROR_REGISTRY: RegistryOwner = {
  folder: 'spiffe',
  prefixes: ['ID', 'TRUST_DOMAIN', 'BUNDLE', 'SVID', 'VERIFY', 'CERT', 'DER'],
  codes: SPIFFE_ERRORS
}
