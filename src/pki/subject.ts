import { quote } from '../internal/errors.ts'
import { x509, type X509 } from './x509.ts'
import { pkiError } from './errors.ts'

/**
 * Returns the X.500 name for a subject written like gcloud's `--subject`:
 * `"CN=Demo Root CA, O=Demo"` (RFC 4514 syntax, attributes encoded in the order written).
 * The empty string gives the empty name X.509-SVIDs usually carry. Throws
 * `ERR_SPIFFE_PKI_BAD_SUBJECT` when the string is not a distinguished name.
 */
export function parseSubject (subject: string): X509.Name {
  if (subject.trim() === '') return new x509.Name([])
  let name: X509.Name
  try {
    name = new x509.Name(subject)
  } catch (err) {
    throw pkiError('ERR_SPIFFE_PKI_BAD_SUBJECT',
      `subject ${quote(subject)} is not a distinguished name like "CN=Demo Root CA, O=Demo"`, { cause: err })
  }
  // The parser accepts "garbage" as an attribute without a value; a DN needs TYPE=value pairs.
  const json = name.toJSON()
  const ok = json.length > 0 && json.every((rdn) => Object.entries(rdn).every(([type, values]) =>
    /^([A-Za-z][A-Za-z0-9-]*|\d+(\.\d+)+)$/.test(type) && values.every((v) => v.trim() !== '')))
  if (!ok) {
    throw pkiError('ERR_SPIFFE_PKI_BAD_SUBJECT',
      `subject ${quote(subject)} is not a distinguished name like "CN=Demo Root CA, O=Demo"`)
  }
  return name
}
